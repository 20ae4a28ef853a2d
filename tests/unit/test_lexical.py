"""BM25 over a search's candidates (the re-ranker's lexical half): rare shared words weigh more
than common ones, titles count, and a foreign question's function words are not false friends."""

from __future__ import annotations

from production.agent import lexical

PASSAGES = [
    ("Audit log", "The audit log records sign-ins, member removals and exports. Download the "
                  "events as CSV."),
    ("Restoring deleted items", "Open the trash, find the deleted project and choose Restore. "
                                "Deleted tasks come back with their comments."),
    ("Email notifications", "Choose which emails you receive: mentions, comments on tasks and "
                            "digests."),
]


def test_the_passage_sharing_the_rarer_words_wins() -> None:
    for question, best in [("Is there a log of who deleted the project, as CSV?", 0),
                           ("How do I restore a deleted project from the trash?", 1)]:
        scores = lexical.scores(question, PASSAGES)
        assert scores.index(max(scores)) == best, scores


def test_stop_words_and_stems() -> None:
    assert lexical.terms("How do I restore deleted tasks?") == ["restore", "delet", "task"]
    assert lexical.scores("the and of", PASSAGES) == [0.0, 0.0, 0.0]
    assert lexical.scores("anything", []) == []


def test_a_foreign_questions_function_words_are_not_false_friends() -> None:
    question = "Comment activer l'authentification à deux facteurs sur mon compte ?"
    assert "comment" in lexical.terms(question)  # an English word, read as English
    assert "comment" not in lexical.terms(question, "fr")
    assert lexical.scores(question, PASSAGES, language="fr")[2] == 0.0
    assert lexical.terms("Notre SSO avec Okta", "fr") == ["sso", "okta"]  # shared words stay
