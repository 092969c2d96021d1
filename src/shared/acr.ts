// Authentication context classes Keystep issues (listed in discovery as acr_values_supported).
export const ACR_PASSWORD = 'urn:keystep:acr:pwd';
export const ACR_MFA = 'urn:keystep:acr:mfa';
export const acrValues = [ACR_PASSWORD, ACR_MFA] as const;
