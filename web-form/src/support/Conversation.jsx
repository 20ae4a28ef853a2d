import { when } from '../shared/format.js';

const AUTHOR = { customer: 'You', agent: 'Support' };

/** A ticket's messages, oldest first; new ones are announced as they arrive. */
export function Conversation({ messages }) {
  return (
    <ol className="conversation" aria-label="Conversation" aria-live="polite">
      {messages.map((message, index) => (
        <li
          key={index} // messages only ever append
          className={`conversation__message conversation__message--${message.author}`}
        >
          <p className="conversation__meta">
            <span className="conversation__author">{AUTHOR[message.author] ?? message.author}</span>
            {' · '}
            <time dateTime={message.created_at}>{when(message.created_at)}</time>
          </p>
          <p className="conversation__content">{message.content}</p>
        </li>
      ))}
    </ol>
  );
}
