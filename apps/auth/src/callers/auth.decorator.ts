import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ResolvedRequest } from '../http/request-context';
import type { Principal } from './principal';

/** The principal CallerGuard resolved for this request. */
export const Auth = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<ResolvedRequest>().principal;
  if (!principal) throw new Error('@Auth() used on a route that CallerGuard does not resolve');
  return principal;
});
