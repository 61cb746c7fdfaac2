import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JsonWebKeySetReply } from './dto/token-verification.dto';
import { SigningKeysService } from '../signing-keys/signing-keys.service';
import { Access } from '../http/route-access';
import { RawReply } from '../http/raw-reply.decorator';

/**
 * The public signing keys as a JWKS (RFC 7517), for services that verify access tokens locally.
 * Bare, without our envelope: JWKS clients expect the standard document. Cacheable for five
 * minutes; a client that meets an unknown `kid` should fetch it again (a rotation happened).
 */
@ApiTags('token')
@Access('none')
@Controller('.well-known')
export class WellKnownController {
  constructor(private readonly signingKeys: SigningKeysService) {}

  @Get('jwks.json')
  @RawReply()
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'The public keys that verify access tokens (JWKS, RFC 7517)', description: 'Not wrapped in the envelope.' })
  @ApiOkResponse({ type: JsonWebKeySetReply, description: 'The key set, bare' })
  async jwks(): Promise<JsonWebKeySetReply> {
    return { keys: await this.signingKeys.publishedKeys() };
  }
}
