package protocol

import (
	"errors"
	"reflect"
	"testing"
)

func TestRecognize(t *testing.T) {
	tests := []struct {
		frame string
		want  []Reading // Err is checked only for nil or not
	}{
		// The grammar itself: no departure.
		{"J_OK", []Reading{{Message: OK()}}},
		{"DATA alice: hi: there", []Reading{{Message: Data("alice", "hi: there")}}},
		{"LIST a b ", []Reading{{Message: List([]string{"a", "b"})}}},
		{"J_ER 404:text", []Reading{{Message: Message{Kind: KindError, Code: "404", Text: "text"}}}},
		// DATA without its verb.
		{"alice: hi", []Reading{{Message: Data("alice", "hi"), Shape: ShapeNoVerb}}},
		{"alice : hi", []Reading{{Message: Data("alice", "hi"), Shape: ShapeNoVerb}}},
		{"[alice]: hi", []Reading{{Message: Data("alice", "hi"), Shape: ShapeNoVerb | ShapeBracketedName}}},
		{"data alice: hi", []Reading{{Message: Data("alice", "hi"), Shape: ShapeVerbCase}}},
		// J_OK with text, glued J_OK.
		{"J_OK welcome alice", []Reading{{Message: OK(), Shape: ShapeOKText}}},
		{"j_ok", []Reading{{Message: OK(), Shape: ShapeVerbCase}}},
		{"J_OKLIST: alice ", []Reading{
			{Message: OK(), Shape: ShapeGlued},
			{Message: List([]string{"alice"}), Shape: ShapeListColon},
		}},
		// J_ER without a code or a colon.
		{"J_ER bad name", []Reading{{Message: Message{Kind: KindError, Text: "bad name"}, Shape: ShapeErrorNoCode}}},
		{"J_ER: taken", []Reading{{Message: Message{Kind: KindError, Text: "taken"}, Shape: ShapeErrorNoCode}}},
		{"J_ER", []Reading{{Message: Message{Kind: KindError}, Shape: ShapeErrorNoCode}}},
		{"J_ER 409 name taken", []Reading{{Message: Message{Kind: KindError, Code: "409", Text: "name taken"}, Shape: ShapeErrorNoColon}}},
		// LIST with a colon or commas.
		{"LIST: a b", []Reading{{Message: List([]string{"a", "b"}), Shape: ShapeListColon}}},
		{"LIST:a,b", []Reading{{Message: List([]string{"a", "b"}), Shape: ShapeListColon | ShapeListCommas}}},
		{"LIST a, b", []Reading{{Message: List([]string{"a", "b"}), Shape: ShapeListCommas}}},
		// Not protocol messages.
		{"Welcome to the chat!", []Reading{{}}},
		{"LISTEN", []Reading{{}}},
		{"", []Reading{{}}},
	}
	for _, tt := range tests {
		got := Recognize(tt.frame)
		if len(got) != len(tt.want) {
			t.Errorf("Recognize(%q) = %d readings %+v, want %d", tt.frame, len(got), got, len(tt.want))
			continue
		}
		for i := range got {
			want := tt.want[i]
			g := got[i]
			if g.Raw == "" && tt.frame != "" {
				t.Errorf("Recognize(%q)[%d].Raw is empty", tt.frame, i)
			}
			if !reflect.DeepEqual(g.Message, want.Message) || g.Shape != want.Shape {
				t.Errorf("Recognize(%q)[%d] = %+v (%s), want %+v (%s)", tt.frame, i, g.Message, g.Shape, want.Message, want.Shape)
			}
			strict := want.Shape == 0 && want.Kind != KindInvalid
			if (g.Err == nil) != strict {
				t.Errorf("Recognize(%q)[%d].Err = %v, want nil: %v", tt.frame, i, g.Err, strict)
			}
		}
	}
}

// TestRecognizeKeepsContentErrors checks that a message with a shape
// departure still reports a broken rule of its content.
func TestRecognizeKeepsContentErrors(t *testing.T) {
	r := Recognize("[bjørn]: hi")
	if len(r) != 1 || r[0].Kind != KindData || !errors.Is(r[0].Err, ErrInvalidName) {
		t.Errorf("Recognize(%q) = %+v, want a DATA with ErrInvalidName", "[bjørn]: hi", r)
	}
	r = Recognize("LIST: a bjørn")
	if len(r) != 1 || r[0].Kind != KindList || !errors.Is(r[0].Err, ErrInvalidName) || r[0].Shape != ShapeListColon {
		t.Errorf("Recognize(%q) = %+v, want a LIST with ErrInvalidName", "LIST: a bjørn", r)
	}
}

func TestShapeString(t *testing.T) {
	if got, want := (ShapeNoVerb | ShapeListCommas).String(), "no DATA verb, LIST names separated by commas"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := Shape(0).String(); got != "" {
		t.Errorf("Shape(0).String() = %q, want \"\"", got)
	}
}

func TestRecognizeRaw(t *testing.T) {
	got := RecognizeRaw("J_OKLIST a bDATA a: hi: thereDATA b: yoJ_ER 409: taken")
	want := []struct {
		raw  string
		kind Kind
	}{
		{"J_OK", KindOK},
		{"LIST a b", KindList},
		{"DATA a: hi: there", KindData},
		{"DATA b: yo", KindData},
		{"J_ER 409: taken", KindError},
	}
	if len(got) != len(want) {
		t.Fatalf("RecognizeRaw = %+v, want %d messages", got, len(want))
	}
	for i, w := range want {
		if got[i].Raw != w.raw || got[i].Kind != w.kind {
			t.Errorf("RecognizeRaw[%d] = %q (%s), want %q (%s)", i, got[i].Raw, got[i].Kind, w.raw, w.kind)
		}
		if glued := got[i].Shape&ShapeGlued != 0; glued != (i < len(want)-1) {
			t.Errorf("RecognizeRaw[%d].Shape = %s; glued should be %v", i, got[i].Shape, i < len(want)-1)
		}
	}
	if r := RecognizeRaw("LIST a b LIST"); len(r) != 1 {
		t.Errorf("RecognizeRaw split %q after a space: %+v", "LIST a b LIST", r)
	}
}
