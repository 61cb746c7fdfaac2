/**
 * The three login bodies of the token interface. Validated by ValidatedBody before Passport
 * runs, so a malformed body is 10002 naming the field, not Passport's bare 401.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsNotEmpty, IsOptional, IsString, Matches, MaxLength, ValidateBy, ValidateIf } from 'class-validator';
import { IsUserIdField } from '../../http/user-id.validators';
import type { DeviceClaim } from '../credentials-verifier';

/** Printable ASCII, as device ids are: no spaces, no control characters. */
const DEVICE_GUID = /^[\x21-\x7e]+$/;

abstract class LoginBody {
  @ApiProperty({ example: 'correct horse battery', format: 'password' })
  @IsDefined({ message: 'password is required' })
  @IsString()
  @IsNotEmpty()
  password!: string;

  @ApiPropertyOptional({
    example: '9f1c2d3e-4b5a-6789-8abc-def012345678',
    description: 'Device ID; when set, the device is registered and a push_token returned',
    maxLength: 128,
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  @Matches(DEVICE_GUID, { message: 'device_guid must be printable ASCII without spaces' })
  device_guid?: string;

  @ApiPropertyOptional({
    example: 'psh_3q2b9XkLr0vQ2mN8pT4sW6yA1cE5gH7j',
    description:
      'The push_token this device got at an earlier login (with device_guid): the device is then known, and ' +
      "strangers' failed guesses on the account do not make it wait (docs/security.md)",
    maxLength: 64,
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  push_token?: string;
}

export class LoginByIdDto extends LoginBody {
  @ApiProperty({ example: 2302128618880, description: 'User ID (int64; a JSON number or a decimal string)' })
  @IsDefined({ message: 'user_id is required' })
  @IsUserIdField()
  user_id!: number;
}

export class LoginByNameDto extends LoginBody {
  @ApiProperty({ example: 'alice_01', description: 'Mobile number, email or username' })
  @IsDefined({ message: 'login_name is required' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  login_name!: string;
}

/** A field that must not come with `other`: of the two, a body sends exactly one. */
function NotSentWith(other: string): PropertyDecorator {
  return ValidateBy(
    { name: 'notSentWith', validator: { validate: (_value: unknown, args) => (args?.object as Record<string, unknown>)[other] === undefined } },
    { message: `send either ${other} or $property, not both` },
  );
}

/**
 * `/token/user`: a username or a mobile number, exactly one of them, as the platform's SDKs send
 * it (`{name, password}` or `{mobile, password}`).
 */
export class LoginByUsernameDto extends LoginBody {
  @ApiPropertyOptional({ example: 'alice_01', description: 'Username; send either name or mobile' })
  @ValidateIf((body: LoginByUsernameDto) => body.name !== undefined || body.mobile === undefined)
  @IsDefined({ message: 'name or mobile is required' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  name?: string;

  @ApiPropertyOptional({
    example: '+8613800138000',
    description: "Mobile number: E.164, or national in the app's default region (as on /token/login); send either name or mobile",
  })
  @ValidateIf((body: LoginByUsernameDto) => body.mobile !== undefined)
  @NotSentWith('name')
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  mobile?: string;

  /**
   * What Passport's local strategy reads as the username (it reads one field): whichever of the
   * two was sent. A getter, so it is never read from the request body itself.
   */
  get identity(): string | undefined {
    return this.name ?? this.mobile;
  }
}

/** The device a validated login body names, if any: what the credentials check reads and counts by. */
export function deviceClaimOf(body: { device_guid?: string; push_token?: string }): DeviceClaim | undefined {
  return body.device_guid === undefined ? undefined : { guid: body.device_guid, pushToken: body.push_token };
}
