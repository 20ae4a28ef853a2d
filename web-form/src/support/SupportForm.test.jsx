import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../shared/api.js';
import { deferred } from '../test-fetch.js';
import { SupportForm } from './SupportForm.jsx';

const RECEIPT = {
  ticket_id: 'TKT-1000',
  status: 'open',
  message: 'Thank you!',
  created_at: '2026-01-01T00:00:00Z',
};

function setup(submit = vi.fn(async () => RECEIPT)) {
  const onSubmitted = vi.fn();
  const user = userEvent.setup();
  render(<SupportForm api={{ submit }} onSubmitted={onSubmitted} />);
  return { user, submit, onSubmitted };
}

async function fillValid(user) {
  await user.type(screen.getByLabelText('Name'), '  Ada Lovelace ');
  await user.type(screen.getByLabelText('Email'), 'ada@example.com');
  await user.type(screen.getByLabelText('Subject'), 'Password reset');
  await user.selectOptions(screen.getByLabelText('Category'), 'account');
  await user.selectOptions(screen.getByLabelText('Priority'), 'high');
  await user.type(screen.getByLabelText('Message'), 'How do I reset my password?');
}

const send = () => screen.getByRole('button', { name: /Send request|Sending/ });

describe('SupportForm', () => {
  it('shows every invalid field its error, focuses the first one and sends nothing', async () => {
    const { user, submit } = setup();
    await user.type(screen.getByLabelText('Email'), 'not-an-email');
    await user.click(send());

    expect(screen.getByLabelText('Name')).toHaveFocus();
    expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('Name')).toHaveAccessibleDescription(
      'Your name must be at least 2 characters.',
    );
    expect(screen.getByLabelText('Email')).toHaveAccessibleDescription(/Enter a valid email address/);
    expect(screen.getByLabelText('Subject')).toHaveAccessibleDescription(/at least 5 characters/);
    expect(screen.getByLabelText('Message')).toHaveAccessibleDescription(/at least 10 characters/);
    expect(screen.getByLabelText(/Phone/)).not.toHaveAttribute('aria-invalid');
    expect(submit).not.toHaveBeenCalled();
  });

  it('keeps error regions in the page so a new error is announced', () => {
    setup();
    const region = document.getElementById(screen.getByLabelText('Name').getAttribute('aria-describedby'));
    expect(region).toHaveAttribute('aria-live', 'polite');
    expect(region).toBeEmptyDOMElement();
  });

  it('clears a field error as soon as the field changes', async () => {
    const { user } = setup();
    await user.click(send());
    await user.type(screen.getByLabelText('Name'), 'Ada');
    expect(screen.getByLabelText('Name')).not.toHaveAttribute('aria-invalid');
    expect(screen.getByLabelText('Email')).toHaveAttribute('aria-invalid', 'true');
  });

  it('sends the trimmed request with an Idempotency-Key, disabled and busy until it is answered', async () => {
    const answer = deferred();
    const { user, submit, onSubmitted } = setup(vi.fn(() => answer.promise));
    await fillValid(user);
    await user.click(send());

    expect(submit).toHaveBeenCalledWith(
      {
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        subject: 'Password reset',
        category: 'account',
        priority: 'high',
        message: 'How do I reset my password?',
      },
      expect.stringMatching(/^web-[0-9a-f]{32}$/),
    );
    expect(send()).toHaveTextContent('Sending…');
    expect(send()).toBeDisabled();
    expect(screen.getByLabelText('Name')).toBeDisabled();
    expect(screen.getByRole('form', { name: 'Contact support' })).toHaveAttribute('aria-busy', 'true');

    answer.resolve(RECEIPT);
    await waitFor(() => expect(onSubmitted).toHaveBeenCalledWith(RECEIPT));
  });

  it('sends once however fast the button is clicked twice', async () => {
    const answer = deferred();
    const { user, submit } = setup(vi.fn(() => answer.promise));
    await fillValid(user);
    const button = send();
    button.click();
    button.click();
    await user.dblClick(button);
    expect(submit).toHaveBeenCalledTimes(1);
    answer.resolve(RECEIPT);
  });

  it("shows the server's field errors on their fields and focuses the first", async () => {
    const refusal = new ApiError(422, 'the request is not valid', [
      { field: 'phone', reason: 'Value error, not a valid phone number (use international format)' },
    ]);
    const { user, onSubmitted } = setup(vi.fn(async () => Promise.reject(refusal)));
    await fillValid(user);
    await user.type(screen.getByLabelText(/Phone/), '+1 000 000 0000');
    await user.click(send());

    const phone = screen.getByLabelText(/Phone/);
    await waitFor(() => expect(phone).toHaveFocus());
    expect(phone).toHaveAttribute('aria-invalid', 'true');
    expect(phone).toHaveAccessibleDescription(/not a valid phone number \(use international format\)$/);
    expect(screen.getByRole('alert')).toHaveTextContent('Please correct the highlighted fields.');
    expect(onSubmitted).not.toHaveBeenCalled();
  });

  it('retries with the same key (one ticket), and a changed request gets a new one', async () => {
    const submit = vi
      .fn()
      .mockRejectedValueOnce(
        new ApiError(503, 'the database is unavailable, nothing was stored; please retry'),
      )
      .mockRejectedValueOnce(new ApiError(0, 'The server could not be reached.'))
      .mockResolvedValue(RECEIPT);
    const { user } = setup(submit);
    await fillValid(user);
    await user.click(send());
    expect(await screen.findByRole('alert')).toHaveTextContent('the database is unavailable');
    await user.click(send());
    await screen.findByText('The server could not be reached.');
    await user.type(screen.getByLabelText('Subject'), ' again');
    await user.click(send());

    const [first, retry, changed] = submit.mock.calls.map(([, key]) => key);
    expect(retry).toBe(first);
    expect(changed).not.toBe(first);
    expect(submit.mock.calls[2][0].subject).toBe('Password reset again');
  });
});
