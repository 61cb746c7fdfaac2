import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JsonWebKeySetReply } from './dto/token-verification.dto';
import { SigningKeysService } from '../signing-keys/signing-keys.service';
import { NoAppRoute } from '../callers/route-access';
import { RawReply } from '../http/raw-reply.decorator';

/** One JWKS fetch a minute per consuming instance, against a leaked key's minute. */
export const JWKS_MAX_AGE_SECONDS = 60;

/**
 * The public signing keys as a JWKS (RFC 7517), for services that verify access tokens locally.
 * Bare, without our envelope: JWKS clients expect the standard document. Cacheable for a minute:
 * how long a client may keep verifying with a key revoked by `keys revoke` (libs/auth-client
 * fetches it again when its `max-age` is up); a client that meets an unknown `kid` should fetch it
 * at once (a rotation happened).
 */
@ApiTags('token')
@NoAppRoute()
@Controller('.well-known')
export class WellKnownController {
  constructor(private readonly signingKeys: SigningKeysService) {}

  @Get('jwks.json')
  @RawReply()
  @Header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
  @ApiOperation({ summary: 'The public keys that verify access tokens (JWKS, RFC 7517)', description: 'Not wrapped in the envelope.' })
  @ApiOkResponse({ type: JsonWebKeySetReply, description: 'The key set, bare' })
  async jwks(): Promise<JsonWebKeySetReply> {
    return { keys: await this.signingKeys.publishedKeys() };
  }
}
