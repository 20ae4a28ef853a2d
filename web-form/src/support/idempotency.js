/** A fresh Idempotency-Key (crypto.randomUUID needs a secure context; an embedding page may not be one). */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
