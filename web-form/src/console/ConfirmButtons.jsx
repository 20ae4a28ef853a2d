/** The second step of a card's decision (an edit to approve, a reason to reject or dismiss):
 * the form's submit button and Cancel. */
export function ConfirmButtons({ approve, label, onCancel }) {
  return (
    <>
      <button type="submit" className={approve ? 'button button--primary' : 'button button--danger'}>
        {label}
      </button>
      <button type="button" className="button button--quiet" onClick={onCancel}>
        Cancel
      </button>
    </>
  );
}
