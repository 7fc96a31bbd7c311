import { RE2JS } from "re2js";

/**
 * A customer's expression, run in linear time: by RE2 (re2js), or, when it has no operator at all,
 * as the plain substring it is (the same answer, without a regex engine).
 */
export interface TextMatcher {
  /** Whether the expression matches anywhere in `text`. */
  test(text: string): boolean;
  /** `text` with every match replaced by `replacement`; `count` is told how many. */
  replace(text: string, replacement: string, count: (n: number) => void): string;
}

const OPERATORS = /[\\^$.|?*+()[\]{}]/;

export function textMatcher(expression: string): TextMatcher {
  if (!OPERATORS.test(expression)) return literal(expression);
  const re = RE2JS.compile(expression);
  return {
    test: (text) => re.matcher(text).find(),
    replace: (text, replacement, count) => {
      const m = re.matcher(text);
      let out = "";
      let from = 0;
      let n = 0;
      for (let at = 0; at <= text.length && m.find(at); ) {
        const start = m.start();
        const end = m.end();
        out += text.slice(from, start) + replacement;
        from = end;
        n++;
        // An empty match (refused for redactions at validation) still moves on.
        at = end > start ? end : end + 1;
      }
      if (n === 0) return text;
      count(n);
      return out + text.slice(from);
    },
  };
}

function literal(text: string): TextMatcher {
  return {
    test: (s) => s.includes(text),
    replace: (s, replacement, count) => {
      if (!s.includes(text)) return s;
      const parts = s.split(text);
      count(parts.length - 1);
      return parts.join(replacement);
    },
  };
}
