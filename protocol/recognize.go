package protocol

import (
	"errors"
	"strings"
)

// Shape is a set of ways in which a frame departs from the grammar's shape
// while its meaning stays clear. [Recognize] reports them; the zero Shape
// is the grammar's own.
type Shape uint16

// The departures Recognize knows. Each is something real servers of the
// assignment do.
const (
	// ShapeNoVerb: a DATA written without its verb: "alice: hi".
	ShapeNoVerb Shape = 1 << iota
	// ShapeBracketedName: a DATA whose name is in brackets: "[alice]: hi".
	ShapeBracketedName
	// ShapeVerbCase: a verb not in upper case: "data alice: hi", "j_ok".
	ShapeVerbCase
	// ShapeOKText: J_OK followed by text: "J_OK welcome alice".
	ShapeOKText
	// ShapeErrorNoCode: a J_ER without a code: "J_ER bad name", "J_ER: taken".
	ShapeErrorNoCode
	// ShapeErrorNoColon: a J_ER with a code but no colon: "J_ER 409 taken".
	ShapeErrorNoColon
	// ShapeListColon: a LIST with a colon after the verb: "LIST: a b".
	ShapeListColon
	// ShapeListCommas: LIST names separated by commas: "LIST a,b", "LIST a, b".
	ShapeListCommas
	// ShapeGlued: a message written with no delimiter before the next one in
	// the same frame: "J_OKLIST a b" is J_OK, then LIST a b.
	ShapeGlued
)

var shapeNames = []struct {
	s    Shape
	name string
}{
	{ShapeNoVerb, "no DATA verb"},
	{ShapeBracketedName, "name in brackets"},
	{ShapeVerbCase, "verb not in upper case"},
	{ShapeOKText, "text after J_OK"},
	{ShapeErrorNoCode, "J_ER without a code"},
	{ShapeErrorNoColon, "J_ER without a colon"},
	{ShapeListColon, "colon after LIST"},
	{ShapeListCommas, "LIST names separated by commas"},
	{ShapeGlued, "glued to the next message"},
}

// String lists the departures, comma-separated, or returns "" for none.
func (s Shape) String() string {
	var parts []string
	for _, n := range shapeNames {
		if s&n.s != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, ", ")
}

// Reading is what [Recognize] makes of one message in a frame.
type Reading struct {
	// Message is the message as recognised. Its Kind is KindInvalid for a
	// frame that is no protocol message at all (a greeting, junk).
	Message
	// Shape says how the frame departs from the grammar's shape.
	Shape Shape
	// Raw is the part of the frame this message was read from: all of it,
	// but for messages glued together.
	Raw string
	// Err is what strict [Parse] says of this message's text: nil when the
	// text is exactly the grammar's (Shape is then 0), else a *ParseError.
	// A message can be recognised with a Shape and still break a rule of
	// its content (a name too long, a text with control characters): Err
	// then says so, and the Message carries what parsing got.
	Err error
}

// Recognize reads one frame leniently, as a tolerant peer (a grader, a
// client) reads a server that does not follow the grammar's shape exactly:
// it returns the messages the frame holds, usually one, each with the
// departures from the shape that it took in its stride. It never fails:
// a frame it cannot make sense of is one Reading of KindInvalid.
//
// It recognises what real servers of the assignment write: a DATA without
// its verb ("alice: hi", "[alice]: hi", "alice : hi"), J_OK with text after
// it, J_ER without a code or a colon, LIST with a colon or commas, verbs in
// lower case, and J_OK glued to the next message ("J_OKLIST a b"). Whether
// a verb-less "name: text" is really a DATA depends on the name, which only
// the caller can judge: such a Reading has ShapeNoVerb.
func Recognize(frame string) []Reading {
	m, err := Parse(frame)
	if err == nil {
		return []Reading{{Message: m, Raw: frame}}
	}
	if r, ok := recognizeVerb(frame); ok {
		return r
	}
	if r, ok := recognizeBareData(frame); ok {
		r.Raw = frame
		return []Reading{r}
	}
	return []Reading{{Message: m, Err: err, Raw: frame}}
}

// RecognizeRaw is Recognize for a frame of FramingRaw, which may hold
// several messages written with no delimiter between them: it splits the
// frame before every verb glued to what precedes it ("hiDATA bob: yo" is
// the end of one DATA and the start of the next), then recognises each
// part, marking all but the last ShapeGlued. A text that itself holds a
// verb glued to a word is split wrongly: that is the price of a framing
// without delimiters.
func RecognizeRaw(frame string) []Reading {
	var out []Reading
	for {
		i := gluedVerb(frame)
		if i < 0 {
			return append(out, Recognize(frame)...)
		}
		part := Recognize(frame[:i])
		for j := range part {
			part[j].Shape |= ShapeGlued
			if part[j].Err == nil {
				part[j].Err = shapeErr(part[j].Raw, ShapeGlued)
			}
		}
		out = append(out, part...)
		frame = frame[i:]
	}
}

// gluedVerbs are the verbs a server sends (and IMAV, QUIT), as they start
// a message.
var gluedVerbs = [...]string{VerbOK, VerbError + " ", VerbError + ":", VerbData + " ", VerbList}

// gluedVerb returns the index, after the first byte, of the first server
// verb in frame that follows a byte other than a space, or -1.
func gluedVerb(frame string) int {
	best := -1
	for _, v := range gluedVerbs {
		for from := 1; from < len(frame); {
			i := strings.Index(frame[from:], v)
			if i < 0 {
				break
			}
			i += from
			if frame[i-1] != ' ' && frame[i-1] != '\t' {
				if best < 0 || i < best {
					best = i
				}
				break
			}
			from = i + 1
		}
	}
	return best
}

// recognizeVerb handles frames that start with a verb, in any case, not
// necessarily followed by a space.
func recognizeVerb(frame string) ([]Reading, bool) {
	if len(frame) < 4 {
		return nil, false
	}
	verb := strings.ToUpper(frame[:4])
	k := kindOf(verb)
	if k == KindInvalid {
		return nil, false
	}
	var shape Shape
	if frame[:4] != verb {
		shape |= ShapeVerbCase
	}
	rest := frame[4:]
	// J_OK and the other bare verbs may be glued to the next message.
	if k == KindOK || k == KindAlive || k == KindQuit {
		trimmed := strings.TrimLeft(rest, " \t")
		if trimmed != "" && trimmed == rest {
			if next, ok := recognizeVerb(rest); ok {
				first := Reading{Message: Message{Kind: k}, Shape: shape | ShapeGlued, Raw: frame[:4]}
				first.Err = shapeErr(frame, first.Shape)
				return append([]Reading{first}, next...), true
			}
		}
		if strings.TrimRight(trimmed, " \t") != "" {
			if k != KindOK {
				return nil, false
			}
			shape |= ShapeOKText
		}
		return []Reading{{Message: Message{Kind: k}, Shape: shape, Err: shapeErr(frame, shape), Raw: frame}}, true
	}
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' && rest[0] != ':' {
		return nil, false // "DATAX ...", "LISTEN": another word
	}
	switch k {
	case KindError:
		return []Reading{recognizeError(frame, rest, shape)}, true
	case KindList:
		return []Reading{recognizeList(frame, rest, shape)}, true
	}
	// JOIN and DATA: only the verb's case can differ; the rest must parse.
	m, err := Parse(verb + rest)
	if err != nil && !errors.Is(err, ErrInvalidName) && !errors.Is(err, ErrTextTooLong) && !errors.Is(err, ErrInvalidText) {
		return nil, false
	}
	if err == nil {
		err = shapeErr(frame, shape)
	}
	return []Reading{{Message: m, Shape: shape, Err: err, Raw: frame}}, true
}

// recognizeError reads a J_ER whose rest may lack a code or a colon.
func recognizeError(frame, rest string, shape Shape) Reading {
	m := Message{Kind: KindError}
	rest = strings.TrimLeft(rest, " \t")
	code, text, colon := strings.Cut(rest, ":")
	code = strings.TrimSpace(code)
	switch {
	case colon && code != "" && !strings.ContainsAny(code, " \t"):
		m.Code, m.Text = code, strings.TrimPrefix(text, " ")
	case colon && code == "":
		shape |= ShapeErrorNoCode
		m.Text = strings.TrimPrefix(text, " ")
	default:
		// No colon, or a code with spaces: a leading number is the code.
		first, after, _ := strings.Cut(rest, " ")
		if first != "" && strings.Trim(first, "0123456789") == "" {
			shape |= ShapeErrorNoColon
			m.Code, m.Text = first, strings.TrimLeft(after, " ")
		} else {
			shape |= ShapeErrorNoCode
			m.Text = rest
		}
	}
	return Reading{Message: m, Shape: shape, Err: shapeErr(frame, shape), Raw: frame}
}

// recognizeList reads a LIST with a colon after the verb or commas
// between the names.
func recognizeList(frame, rest string, shape Shape) Reading {
	if r, ok := strings.CutPrefix(rest, ":"); ok {
		shape |= ShapeListColon
		rest = r
	}
	if strings.ContainsRune(rest, ',') {
		shape |= ShapeListCommas
	}
	m := Message{Kind: KindList, Names: listNames(rest)}
	err := shapeErr(frame, shape)
	if e := validNames(m.Names); e != nil {
		err = &ParseError{Line: frame, Err: e}
	}
	return Reading{Message: m, Shape: shape, Err: err, Raw: frame}
}

// recognizeBareData reads "name: text", "[name]: text" and "name : text",
// a DATA without its verb.
func recognizeBareData(frame string) (Reading, bool) {
	name, text, ok := strings.Cut(frame, ":")
	if !ok {
		return Reading{}, false
	}
	shape := ShapeNoVerb
	name = strings.TrimRight(name, " \t")
	if inner, ok := strings.CutPrefix(name, "["); ok {
		if inner, ok = strings.CutSuffix(inner, "]"); ok {
			shape |= ShapeBracketedName
			name = inner
		}
	}
	if name == "" || strings.ContainsAny(name, " \t[]<>") || len(name) > 4*MaxNameLen {
		return Reading{}, false
	}
	m, err := dataMessage(name, text)
	if err != nil {
		err = &ParseError{Line: frame, Err: err}
	} else {
		err = shapeErr(frame, shape)
	}
	return Reading{Message: m, Shape: shape, Err: err}, true
}

// shapeErr is the strict parser's verdict on a frame with departures: nil
// without any.
func shapeErr(frame string, shape Shape) error {
	if shape == 0 {
		return nil
	}
	return &ParseError{Line: frame, Err: ErrMalformed}
}
