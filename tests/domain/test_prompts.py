"""What the model is sent (server/domain/prompts.py): the system prompt, which turns count, document
truncation, and the history trimmed oldest first to fit the context window."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import BadRequest
from providers.base import ImageData
from providers.registry import Model
from providers.tokens import IMAGE_TOKENS, estimate, estimate_message
from server.domain.files import Attachment
from server.domain.prompts import (TRUNCATED, build_request, chat_message, check_fits, system_prompt,
                                   usable)

# 60 tokens of context, 20 kept for the reply: 40 for the prompt, 20 for each half of documents.
TINY = Model(id="tiny", provider="openai", upstream="tiny-1", input_price=1, output_price=1,
             context_window=60, max_output_tokens=20)
SEEING = Model(id="seeing", provider="openai", upstream="seeing-1", input_price=1, output_price=1,
               context_window=4000, max_output_tokens=100, vision=True)
PNG = ImageData("image/png", b"\x89PNG...")


def turn(role, content, status="complete", **extra):
    return {"role": role, "content": content, "status": status, **extra}


def cost(messages):
    return sum(estimate_message(m.text) + IMAGE_TOKENS * len(m.images) for m in messages)


# -- the system prompt ------------------------------------------------------------------------

def test_the_system_prompt_joins_the_chats_own_its_folders_and_the_personal_text():
    assert system_prompt("Be kind.", None, "The user is learning Russian.") == \
        "Be kind.\n\nThe user is learning Russian."
    assert system_prompt("Be kind.", "Answer in French.", "Personal.") == \
        "Be kind.\n\nAnswer in French.\n\nPersonal."
    assert system_prompt("  Be kind.\n", None, None) == "Be kind."
    assert system_prompt(None, " Folder. ", None) == "Folder."
    assert system_prompt(None, None, " Personal. ") == "Personal."


@pytest.mark.parametrize("chat_prompt,folder,personal",
                         [(None, None, None), ("", "", ""), ("  ", "\t", "\n"), (None, " ", " ")])
def test_no_system_prompt_when_every_part_is_empty(chat_prompt, folder, personal):
    assert system_prompt(chat_prompt, folder, personal) is None


# -- which turns are sent ---------------------------------------------------------------------

@pytest.mark.parametrize("row,expected", [
    (turn("user", "hi"), True),
    (turn("assistant", "hello"), True),
    (turn("assistant", "half a rep", status="stopped"), True),
    (turn("assistant", "cut off", status="interrupted"), True),
    (turn("assistant", "", status="streaming"), False),  # the reply being written now
    (turn("assistant", "", status="stopped"), False),  # stopped before any text
    (turn("assistant", "partial", status="error"), False),
    (turn("system", "a note"), False),
])
def test_only_user_messages_and_replies_with_text_are_usable(row, expected):
    assert usable(row) is expected


# -- a single message against the window ------------------------------------------------------

def test_a_message_that_alone_fills_the_prompt_budget_fits():
    room = TINY.context_window - TINY.max_output_tokens
    largest = "x" * 4 * (room - estimate_message(""))  # 36 tokens + 4 of overhead = 40
    assert estimate_message(largest) == room
    check_fits(TINY, largest)  # no error


def test_a_message_one_token_over_the_budget_is_refused_on_its_content_field():
    room = TINY.context_window - TINY.max_output_tokens
    over = "x" * (4 * (room - estimate_message("")) + 1)
    with pytest.raises(BadRequest) as refused:
        check_fits(TINY, over)
    assert refused.value.details == {"field": "content"}
    assert "tiny" in refused.value.message and "60 tokens" in refused.value.message


# -- a stored message as the model gets it --------------------------------------------------------

def test_without_attachments_the_message_is_its_role_and_content():
    message = chat_message(TINY, turn("user", "plain"))
    assert (message.role, message.content, message.images, message.documents) == \
        ("user", "plain", (), ())
    assert message.text == "plain"


def test_images_reach_only_a_model_with_vision():
    row = turn("user", "look", attachments=[Attachment("cat.png", "image", image=PNG)])
    assert chat_message(SEEING, row).images == (PNG,)
    assert chat_message(TINY, row).images == ()
    assert chat_message(SEEING, row).documents == ()  # an image is no document


def test_a_document_that_fits_in_half_the_window_is_sent_whole():
    row = turn("user", "read this", attachments=[Attachment("a.txt", "document", text="short notes")])
    message = chat_message(SEEING, row)
    assert message.documents == (("a.txt", "short notes"),)
    assert message.text == '<document name="a.txt">\nshort notes\n</document>\n\nread this'


def test_a_document_over_half_the_window_is_cut_and_marked():
    half = (TINY.context_window - TINY.max_output_tokens) // 2  # 20 tokens, about 80 bytes
    row = turn("user", "summarise", attachments=[Attachment("long.txt", "document", text="y" * 500)])
    (name, text), = chat_message(TINY, row).documents
    assert name == "long.txt"
    assert text == "y" * (half * 4) + TRUNCATED


def test_documents_share_the_half_window_in_order():
    half = (SEEING.context_window - SEEING.max_output_tokens) // 2
    first = "a" * 4 * 300  # 300 tokens
    row = turn("user", "both", attachments=[Attachment("1.txt", "document", text=first),
                                            Attachment("pic.png", "image", image=PNG),
                                            Attachment("2.txt", "document", text="b" * 20_000)])
    documents = chat_message(SEEING, row).documents
    assert documents[0] == ("1.txt", first)
    assert documents[1] == ("2.txt", "b" * 4 * (half - 300) + TRUNCATED)  # what the first left


def test_a_document_after_the_room_is_used_up_keeps_only_the_mark():
    row = turn("user", "x", attachments=[Attachment("1.txt", "document", text="a" * 5000),
                                         Attachment("2.txt", "document", text="more")])
    documents = chat_message(TINY, row).documents
    assert documents[1] == ("2.txt", TRUNCATED)


def test_cutting_never_splits_a_character():
    # 80 bytes fit: "a" and 39 two-byte letters, then half a letter, which is dropped
    row = turn("user", "x", attachments=[Attachment("ru.txt", "document", text="a" + "я" * 500)])
    (_, text), = chat_message(TINY, row).documents
    assert text == "a" + "я" * 39 + TRUNCATED


# -- the whole request ----------------------------------------------------------------------------

def test_a_short_history_is_sent_whole_with_the_models_settings():
    history = [turn("user", "q1"), turn("assistant", "a1"), turn("user", "q2")]
    request = build_request(TINY, history, "Be terse.")
    assert request.model == "tiny-1" and request.system == "Be terse."
    assert request.max_tokens == 20
    assert [(m.role, m.content) for m in request.messages] == [
        ("user", "q1"), ("assistant", "a1"), ("user", "q2")]


def test_unusable_turns_are_left_out():
    history = [turn("user", "q1"), turn("assistant", "boom", status="error"),
               turn("user", "q1 again"), turn("assistant", "", status="stopped"), turn("user", "q2")]
    request = build_request(TINY, history, None)
    assert [m.content for m in request.messages] == ["q1", "q1 again", "q2"]


def test_history_is_trimmed_oldest_first_and_opens_with_the_user():
    # Each question is 15 tokens with its overhead, each answer 11; the budget is 40.
    history = []
    for i in range(4):
        history += [turn("user", f"question {i} " * 4), turn("assistant", f"answer {i} " * 3)]
    history.pop()  # the last question is the one being answered
    request = build_request(TINY, history, None)
    # newest first: q3 (15) + a2 (11) = 26 fit; q2 would make 41. The kept a2 is then dropped:
    # vendors want the conversation to open with the user.
    assert [m.content for m in request.messages] == ["question 3 " * 4]


def test_the_system_prompt_takes_its_share_of_the_budget():
    history = [turn("user", "u" * 40), turn("assistant", "a" * 20), turn("user", "v" * 40)]
    assert len(build_request(TINY, history, None).messages) == 3  # 14 + 9 + 14 = 37 of 40
    trimmed = build_request(TINY, history, "s" * 16)  # 4 tokens: 37 > 36
    assert [m.content for m in trimmed.messages] == ["v" * 40]


def test_an_image_costs_its_tokens_in_the_budget():
    small = Model(id="small-eyes", provider="openai", upstream="se", input_price=1, output_price=1,
                  context_window=IMAGE_TOKENS + 120, max_output_tokens=100, vision=True)
    photo = [Attachment("cat.png", "image", image=PNG)]
    history = [turn("user", "first", attachments=photo), turn("assistant", "a cat"),
               turn("user", "and this?", attachments=photo)]
    request = build_request(small, history, None)
    assert [m.content for m in request.messages] == ["and this?"]
    assert request.messages[0].images == (PNG,)


def test_a_last_message_too_long_for_the_window_is_refused():
    history = [turn("user", "hello"), turn("assistant", "hi"), turn("user", "z" * 200)]
    with pytest.raises(BadRequest) as refused:
        build_request(TINY, history, None)
    assert "context window" in refused.value.message and "60 tokens" in refused.value.message


def test_a_system_prompt_can_leave_no_room_even_for_a_short_message():
    with pytest.raises(BadRequest):
        build_request(TINY, [turn("user", "hi")], "s" * 4 * 40)


def test_no_usable_turns_make_an_empty_request_not_an_error():
    assert build_request(TINY, [turn("assistant", "", status="streaming")], None).messages == []


@st.composite
def histories(draw):
    """Turns of random roles and sizes ending with the user's message being answered."""
    size = st.integers(1, 60)
    earlier = draw(st.lists(st.tuples(st.sampled_from(["user", "assistant"]), size), max_size=12))
    last = draw(st.integers(1, 160))  # sometimes too long for the window
    return [turn(role, "w" * n) for role, n in earlier] + [turn("user", "w" * last)]


@given(histories(), st.sampled_from([None, "be brief", "x" * 40]))
def test_the_request_is_the_newest_turns_that_fit_opening_with_the_user(history, system):
    budget = TINY.context_window - TINY.max_output_tokens - estimate(system or "")
    if estimate_message(history[-1]["content"]) > budget:
        with pytest.raises(BadRequest):
            build_request(TINY, history, system)
        return
    sent = build_request(TINY, history, system).messages
    turns = [chat_message(TINY, row) for row in history]
    start = len(turns) - len(sent)
    assert sent == turns[start:]  # a suffix: the newest turns, in order
    assert cost(sent) <= budget
    assert sent[0].role == "user" and sent[-1] == turns[-1]
    # nothing more could have been kept: the newest user turn before them did not fit
    older_users = [i for i in range(start) if turns[i].role == "user"]
    if older_users:
        assert cost(turns[older_users[-1]:]) > budget
