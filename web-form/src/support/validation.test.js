import { describe, expect, it } from 'vitest';
import { toSubmission, validate } from './validation.js';

const valid = {
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  phone: '',
  subject: 'Password reset',
  category: 'account',
  priority: 'medium',
  message: 'How do I reset my password?',
};

describe('validate', () => {
  it('accepts a valid request', () => {
    expect(validate(valid)).toEqual({});
    expect(validate({ ...valid, phone: '+1 (415) 555-0100' })).toEqual({});
  });

  it.each([
    ['name', 'A', /at least 2/],
    ['name', '  A  ', /at least 2/],
    ['name', 'x'.repeat(201), /at most 200/],
    ['email', 'ada', /valid email/],
    ['email', 'ada@example', /valid email/],
    ['email', 'ada lovelace@example.com', /valid email/],
    ['phone', '12', /international format/],
    ['phone', 'call me', /international format/],
    ['phone', '+1234567890123456', /international format/],
    ['subject', 'Hey', /at least 5/],
    ['subject', 'x'.repeat(301), /at most 300/],
    ['category', 'gossip', /category/],
    ['priority', 'whenever', /priority/],
    ['message', 'too short', /at least 10/],
    ['message', 'x'.repeat(5001), /at most 5000/],
  ])('refuses %s = %j', (field, value, reason) => {
    const found = validate({ ...valid, [field]: value });
    expect(Object.keys(found)).toEqual([field]);
    expect(found[field]).toMatch(reason);
  });

  it('counts the message as the server does: trimmed', () => {
    expect(validate({ ...valid, message: `   ${'x'.repeat(9)}   ` })).toHaveProperty('message');
    expect(validate({ ...valid, message: `  ${'x'.repeat(5000)}  ` })).toEqual({});
  });
});

describe('toSubmission', () => {
  it('trims every value and leaves out an empty phone', () => {
    expect(toSubmission({ ...valid, name: '  Ada  ', phone: '   ' })).toEqual({
      name: 'Ada',
      email: 'ada@example.com',
      subject: 'Password reset',
      category: 'account',
      priority: 'medium',
      message: 'How do I reset my password?',
    });
    expect(toSubmission({ ...valid, phone: ' +14155550100 ' }).phone).toBe('+14155550100');
  });
});
