import type { Translations } from '../../messages.ts';
import type { passwordMessages, passwordTexts } from './messages.ts';

export const passwordTranslations: Translations<typeof passwordMessages & typeof passwordTexts> = {
  de: {
    'password.name': 'Passwort',
    CREDENTIALS_INCORRECT: 'Benutzername oder Passwort ist falsch.',
    CREDENTIALS_MISSING: 'Geben Sie Ihren Benutzernamen und Ihr Passwort ein.',
    PASSWORD_THROTTLED: 'Zu viele falsche Passwörter für diesen Benutzernamen. Warten Sie {seconds, plural, one {{seconds} Sekunde} other {{seconds} Sekunden}} und versuchen Sie es dann erneut.',
    ACCOUNT_LOCKED: 'Die Anmeldung für diesen Benutzernamen ist nach zu vielen falschen Passwörtern gesperrt. Versuchen Sie es in {minutes, plural, one {{minutes} Minute} other {{minutes} Minuten}} erneut oder bitten Sie Ihre Administration, sie zu entsperren.',
    ACCOUNT_DISABLED: 'Dieses Konto ist deaktiviert. Wenden Sie sich an Ihre Administration.',
    'password.lead': 'Melden Sie sich an, um zu {client} zu gelangen.',
    'password.username': 'Benutzername',
    'password.password': 'Passwort',
  },
  fr: {
    'password.name': 'mot de passe',
    CREDENTIALS_INCORRECT: 'Le nom d’utilisateur ou le mot de passe est incorrect.',
    CREDENTIALS_MISSING: 'Saisissez votre nom d’utilisateur et votre mot de passe.',
    PASSWORD_THROTTLED: 'Trop de mots de passe erronés pour ce nom d’utilisateur. Patientez {seconds, plural, one {{seconds} seconde} other {{seconds} secondes}}, puis réessayez.',
    ACCOUNT_LOCKED: 'La connexion pour ce nom d’utilisateur est verrouillée après trop de mots de passe erronés. Réessayez dans {minutes, plural, one {{minutes} minute} other {{minutes} minutes}} ou demandez à votre administrateur de la déverrouiller.',
    ACCOUNT_DISABLED: 'Ce compte est désactivé. Demandez de l’aide à votre administrateur.',
    'password.lead': 'Connectez-vous pour continuer vers {client}.',
    'password.username': 'Nom d’utilisateur',
    'password.password': 'Mot de passe',
  },
};
