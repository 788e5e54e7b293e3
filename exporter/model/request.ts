// A request refused with an HTTP status and a reason the client may read, thrown by whoever
// handles it (a route, or a kind's own endpoint) and answered by the app.

export class RequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
