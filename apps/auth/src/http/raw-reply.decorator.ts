import { SetMetadata } from '@nestjs/common';

export const RAW_REPLY = 'raw-reply';

/**
 * The handler's result is the reply body as is, without the `{code, message, data}` envelope: for
 * documents whose format a standard fixes (the JWKS, RFC 7517), read by clients that know nothing
 * of our envelope. Errors are still enveloped by the exception filter.
 */
export const RawReply = () => SetMetadata(RAW_REPLY, true);
