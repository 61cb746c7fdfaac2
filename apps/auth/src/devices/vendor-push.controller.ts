import { Body, Controller, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { VendorPushBindings } from './vendor-push-bindings';
import { BindVendorPushTokenDto, UnbindVendorPushTokenQuery } from './dto/vendor-push.dto';
import { ApiEnvelope } from '../http/api-docs';
import { UserRoute } from '../callers/route-access';
import { Auth, Tenant } from '../callers/resolved-request';
import type { Principal } from '../callers/principal';
import type { AppEntity } from '../tenants/app.entity';

const ACTING_FOR =
  "The user's own access-token acts as the user; an admin access-token, or a group owner's or admin's, acts for the user named by the user_id header.";

/**
 * The platform's vendor push token endpoints: an app binds its phone's APNs / FCM / vendor token to
 * the device it logged in from, so the push service reaches that device while it is signed in.
 */
@ApiTags('user')
@Controller('user/token')
export class VendorPushController {
  constructor(private readonly bindings: VendorPushBindings) {}

  @Post('bind')
  @HttpCode(200)
  @ApiOperation({
    summary: "Bind a vendor push token to one of the user's devices",
    description:
      'The token moves here from any other device of the app it was bound to. Kick, device removal, ban and deletion drop the binding; ' +
      `the device list shows its notifier_name, never the token. ${ACTING_FOR}`,
  })
  @ApiEnvelope('boolean')
  @UserRoute()
  async bind(@Tenant() app: AppEntity, @Auth() principal: Principal, @Body() body: BindVendorPushTokenDto): Promise<boolean> {
    await this.bindings.bind(app, principal, body.device_sn, { token: body.device_token, notifier: body.notifier_name });
    return true;
  }

  @Post('unbind')
  @HttpCode(200)
  @ApiOperation({
    summary: "Drop the vendor push token of one of the user's devices",
    description: `device_sn (or deviceSn) in the query; absent: the device the calling access-token was issued for. Unbinding an unbound device succeeds. ${ACTING_FOR}`,
  })
  @ApiEnvelope('boolean')
  @UserRoute()
  async unbind(@Tenant() app: AppEntity, @Auth() principal: Principal, @Query() query: UnbindVendorPushTokenQuery): Promise<boolean> {
    await this.bindings.unbind(app, principal, query.deviceSnNamed());
    return true;
  }
}
