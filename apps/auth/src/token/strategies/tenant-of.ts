import type { AppEntity } from '../../tenants/app.entity';
import type { ResolvedRequest } from '../../http/request-context';

/** The app AppGuard resolved; the strategies run behind it, so its absence is a wiring bug. */
export function tenantOf(request: ResolvedRequest): AppEntity {
  if (!request.tenant) throw new Error('Login strategy ran before AppGuard resolved the app');
  return request.tenant;
}
