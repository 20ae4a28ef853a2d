/** A timestamp from the API in the reader's locale and zone. */
export const when = (iso) => new Date(iso).toLocaleString();

/** "engage_tenant_kill_switch" → "engage tenant kill switch". */
export const words = (identifier) => String(identifier).replaceAll('_', ' ');
