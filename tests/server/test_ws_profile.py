"""The profile: edit it, watch it change the system prompt the model gets, let it learn from text."""
import pytest

from tests.helpers import reply_events, vendor_providers

CHESS = {"text": "chess", "weight": None, "note": None}


async def test_a_new_user_has_an_empty_profile_and_edits_reach_every_tab(client, alice, connect):
    sock, tab2 = await connect(alice), await connect(alice)
    empty = (await sock.ok("profile.get"))["profile"]
    assert empty == {"values": [], "beliefs": [], "interests": [], "skills": [], "desires": [],
                     "intentions": [], "updated_at": None}

    saved = await sock.ok("profile.update",
                          values=[{"text": "honesty", "weight": 0.9}, {"text": "семья", "weight": 1}],
                          interests=["chess", {"text": "Chess"}, {"text": "go", "note": "the game"}])
    profile = saved["profile"]
    assert profile["values"] == [{"text": "honesty", "weight": 0.9, "note": None},
                                 {"text": "семья", "weight": 1.0, "note": None}]
    assert profile["interests"] == [CHESS, {"text": "go", "weight": None, "note": "the game"}]
    changed = await tab2.event("profile.updated")
    assert changed["updated_at"] == profile["updated_at"] and "profile" not in changed
    assert (await tab2.ok("profile.get"))["profile"] == profile  # the other tab re-reads it

    # a later update of one category leaves the others alone
    again = await sock.ok("profile.update", skills=[{"text": "Python", "weight": 0.7}])
    assert again["profile"]["values"] == profile["values"]
    assert again["profile"]["skills"] == [{"text": "Python", "weight": 0.7, "note": None}]
    assert (await sock.ok("profile.get"))["profile"] == again["profile"]


@pytest.mark.parametrize("change, field", [
    ({"values": [{"text": "x", "weight": 1.5}]}, "values"),
    ({"values": [{"text": "x", "weight": "high"}]}, "values"),
    ({"values": [{"text": "x", "weight": True}]}, "values"),
    ({"beliefs": [{"text": ""}]}, "beliefs"),
    ({"beliefs": [{"text": "x" * 201}]}, "beliefs"),
    ({"skills": [{"text": "x", "level": 3}]}, "skills"),
    ({"skills": [{"weight": 0.5}]}, "skills"),
    ({"skills": [42]}, "skills"),
    ({"desires": "travel"}, "desires"),
    ({"intentions": [{"text": f"plan {i}"} for i in range(31)]}, "intentions"),
    ({"hobbies": ["chess"]}, None),
])
async def test_a_bad_profile_update_is_refused_and_changes_nothing(client, alice, connect, change, field):
    sock = await connect(alice)
    before = (await sock.ok("profile.update", interests=["chess"]))["profile"]
    error = await sock.error("profile.update", **{"interests": [{"text": "kept out"}], **change})
    assert error["code"] == "bad_request"
    assert (error.get("field") or error.get("fields", [None])[0]) == (field or "hobbies")
    assert (await sock.ok("profile.get"))["profile"] == before


async def test_the_profile_reaches_the_model_as_part_of_the_system_prompt(vendored, vendor, alice_on,
                                                                          connect):
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    await sock.ok("profile.update",
                  values=[{"text": "brevity", "weight": 0.4}, {"text": "honesty", "weight": 0.95}],
                  interests=["шахматы"], intentions=[{"text": "move to Berlin", "note": "in May"}])
    chat = await sock.ok("chat.create", model="claude-3-5-haiku", system_prompt="Be kind.")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="What should I read?")
    await reply_events(sock, sent["assistant_message"]["id"])
    assert vendor.requests[-1]["body"]["system"] == (
        "Be kind.\n\n"
        "About the user (from their profile; use it to tailor your answers, do not recite it):\n"
        "- Values, most important first: honesty (0.95), brevity (0.4)\n"
        "- Interests: шахматы\n"
        "- Intentions: move to Berlin — in May")

    await sock.ok("chat.update", chat_id=chat["id"], personalize=False)
    sent = await sock.ok("message.send", chat_id=chat["id"], content="And now?")
    await reply_events(sock, sent["assistant_message"]["id"])
    assert vendor.requests[-1]["body"]["system"] == "Be kind."


async def test_a_long_profile_is_cut_to_its_budget_keeping_the_weightiest_values(vendored, vendor,
                                                                                 alice_on, connect):
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    values = [{"text": f"value number {i} " + "и" * 150, "weight": i / 30} for i in range(30)]
    await sock.ok("profile.update", values=values, beliefs=[{"text": "b" * 200}] * 1)
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="hi")
    await reply_events(sock, sent["assistant_message"]["id"])
    system = vendor.requests[-1]["body"]["messages"][0]
    assert system["role"] == "system"
    assert len(system["content"].encode()) // 4 <= 400  # PROFILE_PROMPT_TOKENS
    assert "value number 29 " in system["content"] and "value number 0 " not in system["content"]
    assert vendor.requests[-1]["body"]["messages"][-1] == {"role": "user", "content": "hi"}


async def test_analyze_works_offline_in_english_and_russian_and_applies_without_duplicates(
        client, alice, connect):
    sock, tab2 = await connect(alice), await connect(alice)
    text = ("I love chess. I value honesty above all! I'm going to move to Berlin. "
            "Я мечтаю выучить испанский. Для меня важна семья. Я умею программировать на Python.")
    found = await sock.ok("profile.analyze", text=text)
    assert found["applied"] is False
    texts = {name: [i["text"] for i in items] for name, items in found["suggestions"].items()}
    assert texts == {"values": ["honesty above all", "семья"], "beliefs": [], "interests": ["chess"],
                     "skills": ["программировать на Python"], "desires": ["выучить испанский"],
                     "intentions": ["move to Berlin"]}
    assert found["profile"]["values"] == []  # only suggested

    await sock.ok("profile.update", interests=["Chess"])
    applied = await sock.ok("profile.analyze", text=text, apply=True)
    assert applied["applied"] is True
    assert [i["text"] for i in applied["profile"]["interests"]] == ["Chess"]  # no duplicate
    assert [i["text"] for i in applied["profile"]["values"]] == ["honesty above all", "семья"]
    await tab2.event("profile.updated")
    assert (await tab2.event("profile.updated"))["updated_at"] == applied["profile"]["updated_at"]
    twice = await sock.ok("profile.analyze", text=text, apply=True)
    assert twice["profile"]["values"] == applied["profile"]["values"]

    nothing = await sock.ok("profile.analyze", text="What's the weather like?", apply=True)
    assert not any(nothing["suggestions"].values()) and nothing["applied"] is False


@pytest.fixture
async def analysing(make_client, vendor):
    return await make_client(providers=vendor_providers(vendor.url),
                             profile_analysis_model="gpt-4o-mini")


async def test_analyze_with_a_model_asks_for_json_and_validates_it(analysing, vendor, alice_on, connect):
    alice = await alice_on(analysing)
    sock = await connect(alice, on=analysing)
    vendor.script.tokens = ['```json\n{"interests": [{"text": "шахматы", ', '"weight": 0.8}], ',
                            '"values": []}\n```']
    found = await sock.ok("profile.analyze", text="Я играю в шахматы каждый день", apply=True)
    assert found["suggestions"]["interests"] == [{"text": "шахматы", "weight": 0.8, "note": None}]
    assert found["profile"]["interests"] == found["suggestions"]["interests"]
    asked = vendor.requests[-1]["body"]
    assert "JSON" in asked["messages"][0]["content"]
    assert asked["messages"][-1]["content"] == "Я играю в шахматы каждый день"

    for answer in (["Sure! You like chess."], ['{"interests": [{"text": "x", "weight": 7}]}'],
                   ['["chess"]'], ['{"hobbies": ["chess"]}']):
        vendor.script.tokens = answer
        error = await sock.error("profile.analyze", text="I like chess", apply=True)
        assert error["code"] == "provider_error", answer
    assert (await sock.ok("profile.get"))["profile"]["interests"] == found["profile"]["interests"]


async def test_an_analysis_model_that_stops_answering_times_out_and_changes_nothing(
        analysing, vendor, alice_on, connect):
    alice = await alice_on(analysing)
    sock = await connect(alice, on=analysing)
    # The first piece arrives, then the model goes silent for longer than the idle timeout (2 s).
    vendor.script.tokens, vendor.script.delay = ['{"interests": [', '{"text": "chess"}]}'], 6.0
    error = await sock.error("profile.analyze", text="I like chess", apply=True)
    assert error["code"] == "provider_unavailable" and "stopped answering" in error["message"]
    assert (await sock.ok("profile.get"))["profile"]["interests"] == []
