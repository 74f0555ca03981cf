// Card numbers (PANs) masked in the browser, before a message is shown, kept in storage or sent:
// the rule of chat/redaction.py, which the server applies again to whatever reaches it. A PAN is
// a Luhn-valid run of 12 to 19 digits (of any script, as Python's \d), optionally grouped with
// spaces, dots, dashes or line breaks; at most its first 6 and last 4 digits are kept.
//
// window.PaydeskRedaction.redactPans(text) → {text, masked}. static/chat/widget.js holds a copy
// of redactPans (it is one file, embedded in merchants' pages); tests/browser/
// test_chat_redaction_js.py checks both against the Python rule.
(function () {
  "use strict";

  // <redact-pans>
  const MASK = "•";
  const DIGIT = /^\p{Nd}$/u;
  // Digit groups joined by up to three spaces, tabs, dots or dashes, or by one line break.
  const RUN = /\p{Nd}+(?:(?:[ \t\u00a0.\-\u2013]{1,3}|\r?\n)\p{Nd}+)*/gu;
  const GROUP = /\p{Nd}+/gu;

  function digitValue(digit) {
    // Unicode assigns decimal digits in runs of ten, zero to nine: count from the run's start.
    const code = digit.codePointAt(0);
    let zero = code;
    while (DIGIT.test(String.fromCodePoint(zero - 1))) zero -= 1;
    return (code - zero) % 10;
  }

  function luhnValid(digits) {
    let total = 0;
    digits
      .slice()
      .reverse()
      .forEach((digit, index) => {
        let value = digitValue(digit);
        if (index % 2 === 1) {
          value *= 2;
          if (value > 9) value -= 9;
        }
        total += value;
      });
    return total % 10 === 0;
  }

  function redactRun(run) {
    // A card number starts and ends on a group boundary: "4242 4242 4242 4242 12" keeps "12".
    const groups = Array.from(run.matchAll(GROUP), (m) => [m.index, m.index + m[0].length]);
    let out = "";
    let cursor = 0;
    let first = 0;
    while (first < groups.length) {
      let last = groups.length - 1;
      for (; last >= first; last -= 1) {
        const [start, end] = [groups[first][0], groups[last][1]];
        const digits = Array.from(run.slice(start, end)).filter((char) => DIGIT.test(char));
        if (digits.length >= 12 && digits.length <= 19 && luhnValid(digits)) {
          const kept = digits.slice(0, 6).join("") + MASK.repeat(digits.length - 10);
          out += run.slice(cursor, start) + kept + digits.slice(-4).join("");
          cursor = end;
          break;
        }
      }
      first = last >= first ? last + 1 : first + 1;
    }
    return out + run.slice(cursor);
  }

  function redactPans(text) {
    // Until stable: the last four digits kept can join the digits after them into a new number.
    let redacted = String(text);
    for (;;) {
      const again = redacted.replace(RUN, redactRun);
      if (again === redacted) return { text: redacted, masked: redacted !== String(text) };
      redacted = again;
    }
  }
  // </redact-pans>

  window.PaydeskRedaction = { MASK: MASK, redactPans: redactPans };
})();
