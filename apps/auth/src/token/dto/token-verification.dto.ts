/**
 * Bodies and replies of the endpoints for services that verify tokens: introspection (RFC 7662),
 * revocation, the revocation log, and the JWKS (RFC 7517).
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { AccessTokenClaims } from '../token-issuer';

export class IntrospectDto {
  @ApiProperty({ description: 'The token to check; anything that is not a valid access token of this app is `{active: false}`' })
  @IsDefined({ message: 'token is required' })
  @IsString()
  token!: string;
}

/** RFC 7662's reply: `{active: false}` alone, or the claims of a valid access token. */
export class IntrospectionReply {
  @ApiProperty({ description: 'true only for a valid, unexpired, unrevoked access token of this app' })
  active!: boolean;

  @ApiPropertyOptional({ example: '2302128618880', description: 'The user id, as a decimal string' })
  sub?: string;

  @ApiPropertyOptional({ example: 2302128618880, description: 'The user id (int64)' })
  user_id?: number;

  @ApiPropertyOptional({ example: 'k3x9q0v2m8w1r7t5y4u6' })
  app_id?: string;

  @ApiPropertyOptional({ example: 1767225600, description: 'Expiry, Unix epoch seconds' })
  exp?: number;

  @ApiPropertyOptional({ example: 1766620800, description: 'Issue time, Unix epoch seconds' })
  iat?: number;

  @ApiPropertyOptional({ format: 'uuid' })
  jti?: string;

  @ApiPropertyOptional({ example: 1, description: "The device's serial number, when the login registered a device" })
  device_sn?: number;

  @ApiPropertyOptional({ example: { sub: 'admin:3f2504e0-4f89-41d3-9a0c-0305e82c3301' }, description: 'RFC 8693: the real caller, when issued during an impersonated call' })
  act?: { sub: string };

  @ApiPropertyOptional({ example: 'access_token' })
  token_type?: 'access_token';

  @ApiPropertyOptional({ example: 'im-auth' })
  iss?: string;

  static inactive(): IntrospectionReply {
    return { active: false };
  }

  static of(claims: AccessTokenClaims): IntrospectionReply {
    return {
      active: true,
      sub: claims.sub,
      user_id: Number(claims.sub),
      app_id: claims.app_id,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      ...(claims.device_sn !== undefined ? { device_sn: claims.device_sn } : {}),
      ...(claims.act !== undefined ? { act: claims.act } : {}),
      token_type: 'access_token',
      iss: claims.iss,
    };
  }
}

export class RevocationsQuery {
  @ApiPropertyOptional({ default: 0, minimum: 0, description: 'The `cursor` of the previous reply; 0 (or absent) for the whole log' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  since: number = 0;
}

export class RevocationPageReply {
  @ApiProperty({ example: 4711, description: 'The highest seq returned, or `since` when none: the next call\'s `since`' })
  cursor!: number;

  @ApiProperty({
    type: [String],
    example: ['1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b'],
    description: 'jtis revoked after `since` whose tokens have not expired, oldest first; at most 1000 (a full page: call again)',
  })
  jtis!: string[];

  @ApiProperty({ type: [Number], example: [1796263556], description: "Each jti's token expiry (Unix seconds), in the same order" })
  expires!: number[];
}

export class JsonWebKeyReply {
  @ApiProperty({ example: 'RSA' })
  kty!: 'RSA';

  @ApiProperty({ description: 'Modulus, base64url' })
  n!: string;

  @ApiProperty({ example: 'AQAB', description: 'Exponent, base64url' })
  e!: string;

  @ApiProperty({ description: 'The `kid` in the header of the tokens this key signs' })
  kid!: string;

  @ApiProperty({ example: 'RS256' })
  alg!: 'RS256';

  @ApiProperty({ example: 'sig' })
  use!: 'sig';
}

export class JsonWebKeySetReply {
  @ApiProperty({ type: [JsonWebKeyReply], description: 'The active key first, then the retired keys whose tokens may still be valid' })
  keys!: JsonWebKeyReply[];
}
