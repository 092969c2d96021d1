import type { Factor, FactorModule } from './factor.ts';
import { backupCodeModule, type BackupCodeDeps } from './factors/backup-code/factor.ts';
import { federatedModule, type FederatedDeps } from './factors/federated/factor.ts';
import { passkeyModule, type PasskeyDeps } from './factors/passkey/factor.ts';
import { passwordModule, type PasswordDeps } from './factors/password/factor.ts';
import { phoneCaptureModule, type PhoneCaptureDeps } from './factors/phone-capture/factor.ts';
import { smsOtpModule, type SmsOtpDeps } from './factors/sms-otp/factor.ts';
import { totpModule, type TotpDeps } from './factors/totp/factor.ts';

/** Everything any factor is built from: the composition root makes one of these. */
export type FactorDeps = PasswordDeps & PasskeyDeps & TotpDeps & SmsOtpDeps & PhoneCaptureDeps & BackupCodeDeps & FederatedDeps;

/**
 * The factors Keystep signs in with, in the order the chain considers them within a stage (the
 * first enrolled one is offered first). Adding a factor is its folder and one line here, plus what ARCHITECTURE.md's "Adding a factor" lists for a factor with a store or an account page.
 */
export const factorModules: readonly FactorModule<FactorDeps>[] = [
  passwordModule,
  // Signing in at an upstream provider, for clients whose first steps name one (`idp:<name>`).
  federatedModule,
  // First of the second stage: an account with a passkey is asked for it, the factor no site can phish.
  passkeyModule,
  // Before the SMS code: an account with both is asked for the app's code, which costs no SMS.
  totpModule,
  smsOtpModule,
  phoneCaptureModule,
  backupCodeModule,
];

/** The factors the settings switch on. */
export function buildFactors(modules: readonly FactorModule<FactorDeps>[], deps: FactorDeps): Factor[] {
  return modules.flatMap((m) => m.build(deps) ?? []);
}
