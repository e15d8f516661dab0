"""The offline title: a chat named after its first message's first sentence, as plain words."""
import pytest

from server.domain.titles import offline_title


@pytest.mark.parametrize("text,title", [
    ("**Как** приготовить `борщ`? Подробно, пожалуйста.", "Как приготовить борщ?"),
    ("# Trip plan\n\nWe go to [Kazan](https://kazan.example) in May. Then home.", "Trip plan"),
    ("> quoted question here!\nmore", "quoted question here!"),
    ("Спасибо за помощь вчера\nтеперь другой вопрос", "Спасибо за помощь вчера"),
    ("```python\nprint(1)\n```\nWhat does this print?", "What does this print?"),
    ("   ", ""),
    ("<img src=x onerror=alert(1)> hello", "hello"),
])
def test_first_sentence_without_markdown(text, title):
    assert offline_title(text) == title


def test_a_long_first_sentence_is_cut_at_a_word_boundary_in_both_alphabets():
    russian = "Расскажи подробно и обстоятельно, как устроены реактивные двигатели самолётов и ракет"
    title = offline_title(russian)
    assert len(title) <= 60 and russian.startswith(title) and russian[len(title)] == " "
    english = "word " * 30
    assert offline_title(english) == ("word " * 12).strip()
    assert offline_title("x" * 100) == "x" * 60  # one long word: cut where it must be
