import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { map, type Observable } from 'rxjs';
import { successEnvelope, type Envelope } from '@app/contract';
import { RAW_REPLY } from './raw-reply.decorator';
import { currentRequestScope } from './request-scope';

/** Wraps every handler's result in the success envelope `{code: 200, message: null, data}`, except on `@RawReply()` routes. */
@Injectable()
export class EnvelopeInterceptor<T> implements NestInterceptor<T, Envelope<T> | T> {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler<T>): Observable<Envelope<T> | T> {
    if (this.reflector.getAllAndOverride<boolean | undefined>(RAW_REPLY, [context.getHandler(), context.getClass()])) return next.handle();
    return next.handle().pipe(
      map((data) => {
        const envelope = successEnvelope(data);
        // For the metrics: a login's outcome is its reply code (HttpMetricsMiddleware).
        const scope = currentRequestScope();
        if (scope) scope.replyCode = envelope.code;
        return envelope;
      }),
    );
  }
}
