import { ApiProperty } from '@nestjs/swagger';

/** `data` of a successful login: the reference platform's fields, with their types. */
export class TokenReply {
  @ApiProperty({ description: 'Access token (RS256 JWT): send it as `access-token`' })
  token!: string;

  @ApiProperty({ example: 2302128618880, description: 'User ID (int64)' })
  user_id!: number;

  @ApiProperty({ example: 1767225600000, description: 'Expiry of `token`, Unix epoch milliseconds' })
  expire!: number;

  @ApiProperty({ type: String, nullable: true, description: 'Push token of the device; null without device_guid' })
  push_token!: string | null;

  @ApiProperty({ description: 'File-store token (short-lived HS256 JWT, scope "file", with the app_id), under the app\'s file key' })
  store_token!: string;

  @ApiProperty({ description: 'File key: HMAC-SHA256 of the store token\'s jti under the app\'s file key (docs/tokens.md)' })
  access_key_secret!: string;

  @ApiProperty({ description: "The app's public key (SPKI PEM) for the encrypted connection" })
  public_key!: string;

  @ApiProperty({ enum: [0, 1], description: '1: the encrypted connection is required' })
  encrypt_type!: number;
}
