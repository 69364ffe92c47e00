/**
 * The plumbing every per-event operator of the toolkit shares: one subscriber (an RxJS layer per concern costs about
 * as much as the work itself), state created per subscription, errors thrown by the step forwarded to the
 * subscriber, and the state released on teardown.
 *
 * ```
 * source:  --a--b--c--|        step(a) = A, step(b) = SKIP, step(c) = C
 * output:  --A-----C--|
 * ```
 */
import { Observable } from 'rxjs';
import type { OperatorFunction } from 'rxjs';

/** Returned by a step to emit nothing for that input. */
export const SKIP: unique symbol = Symbol('skip');

export interface StatefulStep<T, R> {
  step(x: T): R | typeof SKIP;
  dispose(): void;
}

export function statefulMap<T, R>(create: () => StatefulStep<T, R>): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const state = create();
      const sub = source.subscribe({
        next(x) {
          if (subscriber.closed) return;
          let out: R | typeof SKIP;
          try {
            out = state.step(x);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          if (out !== SKIP) subscriber.next(out);
        },
        error(err) {
          subscriber.error(err);
        },
        complete() {
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        state.dispose();
      };
    });
}
