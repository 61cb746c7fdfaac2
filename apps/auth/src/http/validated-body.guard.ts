import { CanActivate, ExecutionContext, Injectable, mixin, type Type } from '@nestjs/common';
import type { ClassConstructor } from 'class-transformer';
import type { HttpRequest } from './request-context';
import { validateBody } from './validation';

/**
 * A guard that validates the body against a DTO and replaces it with the validated instance.
 * Guards run before pipes, so a Passport guard would otherwise meet a malformed body first and
 * answer its own bare 401; placed before it, this makes bad input a 400 (10002) naming the field.
 */
export function ValidatedBody<T extends object>(dtoClass: ClassConstructor<T>): Type<CanActivate> {
  @Injectable()
  class ValidatedBodyGuard implements CanActivate {
    async canActivate(context: ExecutionContext): Promise<boolean> {
      const request = context.switchToHttp().getRequest<HttpRequest>();
      request.body = await validateBody(dtoClass, request.body);
      return true;
    }
  }
  return mixin(ValidatedBodyGuard);
}
