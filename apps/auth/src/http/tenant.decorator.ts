import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ResolvedRequest } from './request-context';

/** The app resolved by AppGuard from the `app_id` header. */
export const Tenant = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const app = context.switchToHttp().getRequest<ResolvedRequest>().tenant;
  if (!app) throw new Error('@Tenant() used on a route that AppGuard does not resolve');
  return app;
});
