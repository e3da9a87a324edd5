#!/usr/bin/env python3
"""Scores a FAQ evaluation set through the real binary (`sportello faq ask`).

Usage: python3 eval/faq/score.py eval/faq/heldout2.csv [path/to/sportello] [--misses]

A question is right when the answer's id (entry or out-of-scope rule) is the expected
one, or when the bot abstains and nothing is expected. Buttons without an answer (near
ties, or suggestions while the question goes to staff) are an abstention: right only when
nothing is expected, never wrong. "Right answer among the buttons" counts, of the
questions that have an answer, those where it is the one answered or among the buttons.
"""
import csv, json, subprocess, sys, collections

path = sys.argv[1]
binary = next((a for a in sys.argv[2:] if not a.startswith('--')), './target/release/sportello')
extra = [a for a in sys.argv[2:] if a.startswith('--') and a != '--misses' and '=' in a]
misses = '--misses' in sys.argv
rows = list(csv.DictReader(open(path, encoding='utf-8')))
by = collections.defaultdict(list)
for i, r in enumerate(rows):
    by[(r['comune'], r['lang'])].append((i, r))
got = {}
for (comune, lang), items in by.items():
    out = subprocess.run([binary, 'faq', 'ask', '--comune', comune, '--lang', lang] + extra,
                         input='\n'.join(r['question'].replace('\n', ' ') for _, r in items) + '\n',
                         capture_output=True, text=True, check=True).stdout.splitlines()
    for (i, _), line in zip(items, out):
        got[i] = json.loads(line)
n = len(rows)
right = wrong = abstained = wrong_abstain = choices_n = 0
answerable = in_buttons = 0
for i, r in enumerate(rows):
    exp = r['expected_id']
    g = got[i]
    ans = g.get('redirect') if g.get('out_of_scope') else g.get('id')
    ch = [c['id'] for c in g.get('choices', []) + g.get('suggestions', [])]
    if exp:
        answerable += 1
        if ans == exp or exp in ch:
            in_buttons += 1
    if ch and not ans:
        # Buttons, no answer: the bot abstains (the question goes to staff) and helps.
        choices_n += 1
        abstained += 1
        ok = exp == ''
        wrong_abstain += 0 if ok else 1
        bad = False
    elif ans is None:
        abstained += 1
        ok = exp == ''
        wrong_abstain += 0 if ok else 1
        bad = False
    else:
        ok = ans == exp
        bad = not ok
    right += ok
    wrong += bad
    if misses and not ok:
        print(f"  {r['comune']}/{r['lang']}: expected {exp or '-'} got {ans or ('|'.join(ch) if ch else '-')}: {r['question']}")
print(f"{path}: {n} questions")
print(f"  right (id or rightful abstention): {right}/{n} = {100*right/n:.1f}%")
print(f"  wrong answers: {wrong} = {100*wrong/n:.1f}%")
print(f"  abstained: {abstained} = {100*abstained/n:.1f}% (of which wrongly {wrong_abstain})")
print(f"  buttons offered: {choices_n} = {100*choices_n/n:.1f}%")
print(f"  right answer answered or among the buttons, of {answerable} with one: {in_buttons} = {100*in_buttons/max(answerable,1):.1f}%")
