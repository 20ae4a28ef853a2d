// The support form's rules, mirroring the server's (production/domain/support_form.py and the
// enums in production/domain/messages.py). The server stays the judge: what only it can tell
// (a phone number that does not exist, an email domain it refuses) comes back as a 422 on the
// same field names.

export const CATEGORIES = [
  ['general', 'General question'],
  ['technical', 'Technical problem'],
  ['billing', 'Billing'],
  ['account', 'Account and sign-in'],
  ['feedback', 'Feedback'],
  ['bug_report', 'Bug report'],
];

export const PRIORITIES = [
  ['low', 'Low'],
  ['medium', 'Medium'],
  ['high', 'High'],
  ['urgent', 'Urgent'],
];

export const LIMITS = {
  name: [2, 200],
  subject: [5, 300],
  message: [10, 5000],
  phone: 40,
};

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
// The shape of an international number; whether it exists is the server's call.
const PHONE = /^\+?[\d\s().-]+$/;

/** True when the text has the shape of an email address (the server has the last word). */
export const isEmail = (value) => EMAIL.test(value);

function length(value, [min, max], what) {
  if (value.length < min) return `${what} must be at least ${min} characters.`;
  if (value.length > max) return `${what} must be at most ${max} characters.`;
  return null;
}

function phoneProblem(phone) {
  if (!phone) return null;
  const digits = phone.replace(/\D/g, '').length;
  if (phone.length > LIMITS.phone || !PHONE.test(phone) || digits < 7 || digits > 15) {
    return 'Enter a phone number in international format, e.g. +14155550100.';
  }
  return null;
}

/** The submission the API takes: trimmed values, and no phone when none was given. */
export function toSubmission(values) {
  const body = {};
  for (const [name, value] of Object.entries(values)) body[name] = value.trim();
  if (!body.phone) delete body.phone;
  return body;
}

/** Return { field: message } for every rule the values break (empty when they are valid). */
export function validate(values) {
  const body = toSubmission(values);
  const found = {
    name: length(body.name, LIMITS.name, 'Your name'),
    email: isEmail(body.email) ? null : 'Enter a valid email address, e.g. ada@example.com.',
    phone: phoneProblem(body.phone ?? ''),
    subject: length(body.subject, LIMITS.subject, 'The subject'),
    category: CATEGORIES.some(([value]) => value === body.category) ? null : 'Choose a category.',
    priority: PRIORITIES.some(([value]) => value === body.priority) ? null : 'Choose a priority.',
    message: length(body.message, LIMITS.message, 'The message'),
  };
  return Object.fromEntries(Object.entries(found).filter(([, message]) => message));
}
