package jsonshape

import (
	"strings"
	"testing"
)

const doc = "# Shapes\n\n<!-- shape: rec -->\n```json\n" +
	`{"file": "a.png", "n": 3, "ok": true, "probs": [0.5], "top": [{"class": "Bag", "p": 0.9}], "any": null, "meta": {"x": "y"}}` +
	"\n```\n\ntext\n\n<!-- shape: open open: meta optional: n,v.w -->\n```json\n" + `{"meta": {"x": 1}, "n": 1, "v": {"w": true, "u": 1}}` + "\n```\n" +
	"\n<!-- shape: rows optional: rows[].why nullable: rows[].ok -->\n```json\n" + `{"rows": [{"ok": true, "why": "x"}]}` + "\n```\n" +
	"\n<!-- shape: two -->\n```json\n" + `{"v": [{"n": 0}, {"s": "", "t": false}]}` + "\n```\n"

// TestMatch: documents of the example's shape match; every kind of difference is found and
// named by its path.
func TestMatch(t *testing.T) {
	shapes, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(shapes) != 4 {
		t.Fatalf("%d shapes, want 4: %v", len(shapes), shapes)
	}
	rec, open, rows, two := shapes["rec"], shapes["open"], shapes["rows"], shapes["two"]
	for _, c := range []struct {
		shape Shape
		doc   string
		want  string // "" for a match, else a fragment of the error
	}{
		{rec, `{"file": "b.png", "n": 7, "ok": false, "probs": [], "top": [], "any": [1], "meta": {"x": "z"}}`, ""},
		{rec, `{"file": "b.png", "n": 7, "ok": false, "probs": [1, 2], "top": [{"class": "Coat", "p": 1}], "any": "s", "meta": {"x": ""}}`, ""},
		{rec, `{"n": 7, "ok": false, "probs": [], "top": [], "any": 1, "meta": {"x": "z"}}`, `lacks the key "file"`},
		{rec, `{"file": "b", "n": 7, "ok": false, "probs": [], "top": [], "any": 1, "meta": {"x": "z"}, "index": -1}`, `undocumented key "index"`},
		{rec, `{"file": "b", "n": "7", "ok": false, "probs": [], "top": [], "any": 1, "meta": {"x": "z"}}`, "n is string, want number"},
		{rec, `{"file": "b", "n": 7, "ok": false, "probs": [0.1, "x"], "top": [], "any": 1, "meta": {"x": "z"}}`, "probs[1] is string"},
		{rec, `{"file": "b", "n": 7, "ok": false, "probs": [], "top": [{"class": "Bag"}], "any": 1, "meta": {"x": "z"}}`, `top[0] lacks the key "p"`},
		{rec, `{"file": "b", "n": 7, "ok": false, "probs": [], "top": [], "any": 1, "meta": {"x": "z", "y": 1}}`, `meta has the undocumented key "y"`},
		{rec, `{"file": "b", "n": 7, "ok": null, "probs": [], "top": [], "any": 1, "meta": {"x": "z"}}`, "ok is null"},
		{rec, `[1]`, "the document is array"},
		{rec, `{"file": 1} {"file": 2}`, "more than one"},
		{rec, `{"file": `, "not JSON"},
		{open, `{"meta": {"anything": [1, 2], "else": {"deep": true}}, "n": 2, "v": {"w": false, "u": 2}}`, ""},
		{open, `{"meta": {}, "v": {"u": 2}}`, ""},
		{open, `{"meta": {}, "n": 2, "v": {"w": false}}`, `v lacks the key "u"`},
		{open, `{"meta": {}, "n": "2", "v": {"u": 1}}`, "n is string"},
		{open, `{"meta": [], "v": {"u": 1}}`, "meta is array"},
		{rows, `{"rows": [{"ok": true}, {"ok": false, "why": "y"}]}`, ""},
		{rows, `{"rows": [{"why": "y"}]}`, `rows[0] lacks the key "ok"`},
		{rows, `{"rows": [{"ok": true, "why": 1}]}`, "rows[0].why is number"},
		{rows, `{"rows": [{"ok": null}, {"ok": false}]}`, ""},
		{rows, `{"rows": [{"ok": true, "why": null}]}`, "rows[0].why is null"},
		{two, `{"v": [{"n": 1}, {"s": "x", "t": true}, {"n": 2}]}`, ""},
		{two, `{"v": [{"n": 1}, {"s": "x"}]}`, `v[1] lacks the key "n"`},
		{two, `{"v": [{"n": 1, "s": "x"}]}`, `v[0] has the undocumented key "s"`},
	} {
		err := c.shape.Match([]byte(c.doc))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %s: %v", c.shape.Name, c.doc, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %s: got %v, want an error saying %q", c.shape.Name, c.doc, err, c.want)
		}
	}
}

// TestParseErrors: a duplicated name and an example that is not JSON are refused.
func TestParseErrors(t *testing.T) {
	block := "<!-- shape: a -->\n```json\n{}\n```\n"
	if _, err := Parse([]byte(block + block)); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := Parse([]byte("<!-- shape: a -->\n```json\n{x}\n```\n")); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("bad example: %v", err)
	}
}
