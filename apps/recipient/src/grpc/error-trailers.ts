/** Trailer keys carrying a failed call's stable error code and the library it comes from. */
export const ERROR_CODE_KEY = 'error-code';
export const ERROR_DOMAIN_KEY = 'error-domain';
