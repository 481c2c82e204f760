package faultproxy

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chatspec/chatspec/protocol"
)

// Mutant is one broken server, or one legal variation: the reference
// server (with HeartbeatTimeout overridden if set) behind a [Proxy] running
// a fresh Fault. [Mutant.Start] runs it:
//
//	srv, err := m.Start(protocol.FramingLine, suiteHeartbeatTimeout)
//	if err != nil { ... }
//	defer srv.Close()
//	// grade srv.Addr()
type Mutant struct {
	// Name is short and unique, e.g. "no-list-to-others".
	Name string
	// Group is the rule group (the feature) of the rule broken: joining,
	// duplicates, messages, presence, heartbeat, quitting, errors, framing;
	// "" for a legal variant.
	Group string
	// Breaks is the rule the mutant breaks, in words; "" for a legal variant.
	Breaks string
	// Level is "must" or "should", the level of the rule broken; "" for a
	// legal variant.
	Level string
	// HeartbeatTimeout, if not zero, replaces the suite's in-process
	// heartbeat timeout of the reference server.
	HeartbeatTimeout time.Duration
	// LineOnly: the mutant means something in line framing only (a Raw
	// fault, or a variant of line terminators); skip it under utf framing.
	LineOnly bool
	// Note says anything else a test using the mutant needs to know.
	Note string
	// Fault returns a new Fault, with fresh shared state, for one run.
	Fault func() Fault
}

// Levels of the rules.
const (
	Must   = "must"
	Should = "should"
)

// Mutants returns every broken server of the catalogue, each breaking one
// rule, grouped as the features are. Names are unique.
func Mutants() []Mutant {
	groups := []struct {
		name    string
		mutants []Mutant
	}{
		{"joining", joiningMutants()},
		{"duplicates", duplicateMutants()},
		{"messages", messageMutants()},
		{"presence", presenceMutants()},
		{"heartbeat", heartbeatMutants()},
		{"quitting", quittingMutants()},
		{"errors", errorMutants()},
		{"framing", framingMutants()},
	}
	var ms []Mutant
	for _, g := range groups {
		for _, m := range g.mutants {
			m.Group = g.name
			ms = append(ms, m)
		}
	}
	return ms
}

// RefuseNames returns a mutant that answers J_ER (code 410) itself to a
// JOIN of a valid name that refuse selects, and does not forward it. Use it
// to target a row of the name outline the catalogue does not.
func RefuseNames(name, breaks string, refuse func(name string) bool) Mutant {
	return Mutant{Name: name, Breaks: breaks, Level: Must, Fault: func() Fault { return refuseNames(refuse) }}
}

// AcceptInvalidNames returns a mutant that accepts a JOIN whose name is
// invalid when accept selects it: the server gets a fresh valid name, the
// clients keep seeing the invalid one in LIST and DATA.
func AcceptInvalidNames(name, breaks string, accept func(name string) bool) Mutant {
	return Mutant{Name: name, Breaks: breaks, Level: Must, Fault: func() Fault {
		return aliasFault(func(_ *Session, m protocol.Message, err error) bool {
			return errors.Is(err, protocol.ErrInvalidName) && accept(m.Name)
		})
	}}
}

// RejectAccepted returns a mutant whose server accepts a JOIN (the user is
// in the room) but tells the client J_ER (code 410) instead of J_OK when
// reject selects the name.
func RejectAccepted(name, breaks string, reject func(name string) bool) Mutant {
	return Mutant{Name: name, Breaks: breaks, Level: Must, Fault: func() Fault {
		return Fault{Frame: frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
			if m.Kind == protocol.KindOK && reject(s.Name()) {
				return []string{errorLine(protocol.CodeInvalidName)}
			}
			return []string{line}
		})}
	}}
}

// suiteNames is the note of the mutants that refuse some valid names.
const suiteNames = "catches only the scenario for such names if the names the suite makes up for its users are lower-case, shorter than 12 characters and without '-'"

func withNote(m Mutant, note string) Mutant {
	m.Note = note
	return m
}

func joiningMutants() []Mutant {
	return []Mutant{
		withNote(RejectAccepted("reject-uppercase",
			"a valid name (here: one with an upper-case letter) is answered J_OK", hasUpper),
			"the server has the user in the room, the client reads J_ER; "+suiteNames),
		withNote(RefuseNames("refuse-hyphen",
			"a name with '-' is valid", func(n string) bool { return strings.Contains(n, "-") }),
			suiteNames),
		withNote(RefuseNames("refuse-12-chars",
			"a name of exactly 12 characters is valid", func(n string) bool { return len(n) == protocol.MaxNameLen }),
			suiteNames),
		AcceptInvalidNames("accept-13-chars",
			"a name longer than 12 characters is refused with J_ER",
			func(n string) bool { return utf8.RuneCountInString(n) > protocol.MaxNameLen }),
		AcceptInvalidNames("accept-space",
			"a name with a space is refused with J_ER",
			func(n string) bool { return strings.ContainsAny(n, " \t") }),
		AcceptInvalidNames("accept-punctuation",
			"a name with punctuation other than '-' and '_' (e.g. '!') is refused with J_ER",
			func(n string) bool { return strings.ContainsAny(n, "!\"#$%&'()*+./;<=>?@[\\]^`{|}~") }),
		AcceptInvalidNames("accept-non-ascii",
			"a name with a letter outside A-Z a-z (e.g. 'ø') is refused with J_ER",
			func(n string) bool { return strings.ContainsFunc(n, func(r rune) bool { return r >= utf8.RuneSelf }) }),
		AcceptInvalidNames("accept-empty",
			"an empty name is refused with J_ER",
			func(n string) bool { return n == "" }),
		{
			Name:   "jer-malformed",
			Breaks: "J_ER has the shape \"J_ER <code>: <text>\" (here the J_ER for an invalid name has no colon)",
			Level:  Must,
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToClient, func(_ *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindError && m.Code == "410" {
						// Deliberately malformed, so written by hand.
						return []string{"J_ER bad name"}
					}
					return []string{line}
				})}
			},
			Note: "rewrites the reference server's invalid-name J_ER (code 410) only",
		},
		{
			Name:   "rejoin-accepted",
			Breaks: "a JOIN on a connection that has already joined is refused with J_ER",
			Level:  Should,
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindJoin && s.Joined() {
						_ = s.Inject(ToClient, protocol.OK().String())
						return nil
					}
					return []string{line}
				})}
			},
		},
		{
			Name:   "no-retry-after-jer",
			Breaks: "after J_ER to a JOIN the client can try again with another name on the same connection",
			Level:  Should,
			Fault:  noRetryFault,
			Note:   "every later JOIN on a connection whose JOIN was refused gets J_ER 400 from the proxy",
		},
	}
}

// noRetryFault refuses every JOIN on a connection after the server
// refused one.
func noRetryFault() Fault {
	const joinSent, refused = "faultproxy.joinSent", "faultproxy.refused"
	toServer := frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
		if m.Kind != protocol.KindJoin || s.Joined() {
			return []string{line}
		}
		if _, ok := s.Vars.Load(refused); ok {
			_ = s.Inject(ToClient, protocol.Error(protocol.CodeBadCommand, "no second try").String())
			return nil
		}
		s.Vars.Store(joinSent, true)
		return []string{line}
	})
	toClient := frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
		if m.Kind == protocol.KindOK || m.Kind == protocol.KindError {
			if _, ok := s.Vars.LoadAndDelete(joinSent); ok && m.Kind == protocol.KindError {
				s.Vars.Store(refused, true)
			}
		}
		return []string{line}
	})
	return Fault{Frame: bothHooks(toServer, toClient)}
}

func duplicateMutants() []Mutant {
	return []Mutant{
		{
			Name:   "accept-duplicate",
			Breaks: "a JOIN with the name of an active user is refused with J_ER",
			Level:  Must,
			Fault: func() Fault {
				return aliasFault(func(s *Session, m protocol.Message, err error) bool {
					if err != nil {
						return false
					}
					for _, o := range s.Proxy().Sessions() {
						if o != s && o.Joined() && o.Name() == m.Name {
							return true
						}
					}
					return false
				})
			},
			Note: "only names in use by clients that joined through the proxy count",
		},
		{
			Name:   "name-kept-after-quit",
			Breaks: "the name of a user who quit is free to join again",
			Level:  Must,
			Fault: func() Fault {
				quit := newNameSet()
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, err error, line string) []string {
					switch {
					case m.Kind == protocol.KindQuit && s.Joined():
						quit.add(s.Name())
					case m.Kind == protocol.KindJoin && err == nil && !s.Joined() && quit.has(m.Name):
						_ = s.Inject(ToClient, errorLine(protocol.CodeDuplicateName))
						return nil
					}
					return []string{line}
				})}
			},
		},
	}
}

func messageMutants() []Mutant {
	return []Mutant{
		{
			Name:   "no-echo",
			Breaks: "DATA is sent to every active client, the sender included",
			Level:  Must,
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToClient, func(s *Session, m protocol.Message, err error, _ string) bool {
					return m.Kind == protocol.KindData && err == nil && s.Joined() && m.Name == s.ServerName()
				})}
			},
		},
		{
			Name:   "no-delivery-to-others",
			Breaks: "DATA is sent to every active client, not only the sender",
			Level:  Must,
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToClient, func(s *Session, m protocol.Message, err error, _ string) bool {
					return m.Kind == protocol.KindData && err == nil && m.Name != s.ServerName()
				})}
			},
		},
		{
			Name:   "count-bytes",
			Breaks: "the 250-character limit of a DATA text counts characters, not bytes (250 x 'ø' is accepted)",
			Level:  Must,
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, err error, line string) []string {
					if m.Kind == protocol.KindData && err == nil && len(m.Text) > protocol.MaxTextLen {
						_ = s.Inject(ToClient, errorLine(protocol.CodeTextTooLong))
						return nil
					}
					return []string{line}
				})}
			},
		},
		{
			Name:   "accept-long-text",
			Breaks: "a DATA text longer than 250 characters is refused with J_ER",
			Level:  Must,
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(_ *Session, m protocol.Message, err error, line string) []string {
					if m.Kind == protocol.KindData && errors.Is(err, protocol.ErrTextTooLong) {
						return []string{protocol.Data(m.Name, firstRunes(m.Text, protocol.MaxTextLen)).String()}
					}
					return []string{line}
				})}
			},
			Note: "the server broadcasts the text cut to 250 characters",
		},
		{
			Name:   "text-cut-at-colon",
			Breaks: "the DATA text is everything after the first ':', colons included",
			Level:  Must,
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(_ *Session, m protocol.Message, err error, line string) []string {
					if m.Kind == protocol.KindData && err == nil {
						if before, _, found := strings.Cut(m.Text, ":"); found {
							return []string{protocol.Data(m.Name, before).String()}
						}
					}
					return []string{line}
				})}
			},
		},
		{
			Name:   "data-before-join-ignored",
			Breaks: "DATA before JOIN is answered with J_ER",
			Level:  Should,
			Fault: func() Fault {
				const joinSent = "faultproxy.joinSent"
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					switch m.Kind {
					case protocol.KindJoin:
						s.Vars.Store(joinSent, true)
					case protocol.KindData:
						if _, ok := s.Vars.Load(joinSent); !ok {
							return nil
						}
					}
					return []string{line}
				})}
			},
			Note: "drops DATA only on connections that have sent no JOIN at all",
		},
		{
			Name:   "impersonation-broadcast",
			Breaks: "DATA under another user's name is refused with J_ER and reaches nobody",
			Level:  Should,
			Fault:  impersonationFault,
		},
		{
			Name:   "accept-control-chars",
			Breaks: "a DATA text with control characters or invalid UTF-8 is refused with J_ER",
			Level:  Should,
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(_ *Session, m protocol.Message, err error, line string) []string {
					if m.Kind == protocol.KindData && errors.Is(err, protocol.ErrInvalidText) {
						return []string{protocol.Data(m.Name, cleanText(m.Text)).String()}
					}
					return []string{line}
				})}
			},
			Note: "the server broadcasts the text with the control characters removed",
		},
	}
}

// impersonationFault lets a joined client send DATA under another name:
// the server gets it under the sender's own name, and every client gets it
// back under the claimed one.
func impersonationFault() Fault {
	var mu sync.Mutex
	claimed := make(map[[2]string]string) // {sender's server name, text} -> claimed name; guarded by mu
	toServer := frameHook(ToServer, func(s *Session, m protocol.Message, err error, line string) []string {
		if m.Kind == protocol.KindData && err == nil && s.Joined() && m.Name != s.ServerName() {
			own := s.ServerName()
			mu.Lock()
			claimed[[2]string{own, m.Text}] = m.Name
			mu.Unlock()
			return []string{protocol.Data(own, m.Text).String()}
		}
		return []string{line}
	})
	toClient := frameHook(ToClient, func(_ *Session, m protocol.Message, err error, line string) []string {
		if m.Kind == protocol.KindData && err == nil {
			mu.Lock()
			name, ok := claimed[[2]string{m.Name, m.Text}]
			mu.Unlock()
			if ok {
				return []string{protocol.Data(name, m.Text).String()}
			}
		}
		return []string{line}
	})
	return Fault{Frame: bothHooks(toServer, toClient)}
}

func presenceMutants() []Mutant {
	return []Mutant{
		{
			Name:   "no-list-to-joiner",
			Breaks: "after J_OK the joiner receives a LIST of the active users",
			Level:  Must,
			Fault: func() Fault {
				const seen = "faultproxy.listSeen"
				return Fault{Frame: frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindList && s.Joined() {
						if _, loaded := s.Vars.LoadOrStore(seen, true); !loaded {
							return nil
						}
					}
					return []string{line}
				})}
			},
		},
		{
			Name:   "no-list-to-others",
			Breaks: "when a user joins, every active client receives the new LIST",
			Level:  Must,
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToClient, func(s *Session, m protocol.Message, err error, line string) []string {
					if m.Kind != protocol.KindList || err != nil || !s.Joined() {
						return []string{line}
					}
					prev := swapList(s, m.Names)
					if prev != nil && slices.ContainsFunc(m.Names, func(n string) bool { return !slices.Contains(prev, n) }) {
						return nil // a LIST that adds someone: a join by another user
					}
					return []string{line}
				})}
			},
		},
		{
			Name:   "list-before-jok",
			Breaks: "J_OK comes before the joiner's first LIST",
			Level:  Should,
			Fault: func() Fault {
				const held = "faultproxy.heldOK"
				return Fault{Frame: frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
					switch m.Kind {
					case protocol.KindOK:
						if _, loaded := s.Vars.LoadOrStore(held, line); !loaded {
							return nil
						}
					case protocol.KindList:
						if ok, loaded := s.Vars.LoadAndDelete(held); loaded {
							return []string{line, ok.(string)}
						}
					}
					return []string{line}
				})}
			},
		},
		{
			Name:   "no-list-after-quit",
			Breaks: "when a user quits, every remaining client receives the new LIST",
			Level:  Must,
			Fault: func() Fault {
				quit := newNameSet()
				toServer := frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindQuit && s.Joined() {
						quit.add(s.ServerName())
					}
					return []string{line}
				})
				toClient := frameHook(ToClient, func(s *Session, m protocol.Message, err error, line string) []string {
					if m.Kind != protocol.KindList || err != nil || !s.Joined() {
						return []string{line}
					}
					prev := swapList(s, m.Names)
					if slices.ContainsFunc(prev, func(n string) bool { return quit.has(n) && !slices.Contains(m.Names, n) }) {
						return nil // a LIST that removes a user who quit
					}
					return []string{line}
				})
				return Fault{Frame: bothHooks(toServer, toClient)}
			},
		},
		{
			Name:   "list-keeps-quitter",
			Breaks: "the LIST sent after a user quits no longer names that user",
			Level:  Must,
			Fault: func() Fault {
				quit := newNameSet()
				toServer := frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindQuit && s.Joined() {
						quit.add(s.ServerName())
					}
					return []string{line}
				})
				toClient := frameHook(ToClient, func(_ *Session, m protocol.Message, err error, line string) []string {
					if m.Kind != protocol.KindList || err != nil {
						return []string{line}
					}
					names := m.Names
					for _, n := range quit.list() {
						if !slices.Contains(names, n) {
							names = append(names, n)
						}
					}
					return []string{protocol.List(names).String()}
				})
				return Fault{Frame: bothHooks(toServer, toClient)}
			},
		},
		{
			Name:   "slow-disconnect-notice",
			Breaks: "when a client disconnects without QUIT, the rest promptly receive a LIST without it",
			Level:  Should,
			Fault: func() Fault {
				return Fault{KeepUpstreamOnClose: true, KeepUpstreamAlive: true}
			},
			Note: "the server never learns of the disconnect: the proxy keeps the user alive with IMAV every 100ms until it closes; needs a heartbeat timeout well above 100ms",
		},
	}
}

func heartbeatMutants() []Mutant {
	return []Mutant{
		{
			Name:             "never-drops-silent",
			Breaks:           "a client that sends nothing for longer than the heartbeat timeout is dropped (and the rest get a LIST without it)",
			Level:            Must,
			HeartbeatTimeout: time.Hour,
			Fault:            func() Fault { return Fault{} },
		},
		{
			Name:   "ignores-imav",
			Breaks: "IMAV keeps a client alive: a client sending IMAV in time is never dropped",
			Level:  Must,
			Note:   "any client that sends only IMAV for longer than the heartbeat timeout is dropped, in whatever scenario",
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToServer, func(_ *Session, m protocol.Message, err error, _ string) bool {
					return m.Kind == protocol.KindAlive && err == nil
				})}
			},
		},
		{
			Name:   "dropped-left-open",
			Breaks: "the server closes the connection of a client it drops for silence",
			Level:  Should,
			Fault: func() Fault {
				return Fault{
					KeepClientOnUpstreamClose: true,
					Frame: frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
						if m.Kind == protocol.KindQuit {
							s.SetKeepClientOnUpstreamClose(false)
						}
						return []string{line}
					}),
				}
			},
			Note: "every connection the server closes stays open towards the client, except after QUIT",
		},
	}
}

func quittingMutants() []Mutant {
	return []Mutant{
		{
			Name:   "quit-ignored",
			Breaks: "QUIT removes the user (the rest get a LIST without it) and the server closes the connection",
			Level:  Must,
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToServer, func(_ *Session, m protocol.Message, _ error, _ string) bool {
					return m.Kind == protocol.KindQuit
				})}
			},
		},
		{
			Name:   "data-after-quit",
			Breaks: "a user who quits receives nothing more",
			Level:  Must,
			Fault:  dataAfterQuitFault,
			Note:   "the quitter is removed (the rest get their LIST), but its connection stays open and still receives every DATA a client of the proxy sends",
		},
		{
			Name:   "open-after-quit",
			Breaks: "the server closes the connection after QUIT",
			Level:  Should,
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindQuit {
						s.SetKeepClientOnUpstreamClose(true)
					}
					return []string{line}
				})}
			},
			Note: "the user is removed and the rest get their LIST; only the client's connection stays open",
		},
	}
}

// dataAfterQuitFault keeps the connection of a client that quit open and
// copies to it every DATA that a client of the proxy sends.
func dataAfterQuitFault() Fault {
	const quit = "faultproxy.quit"
	toServer := frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
		if m.Kind == protocol.KindQuit && s.Joined() {
			s.Vars.Store(quit, true)
			s.SetKeepClientOnUpstreamClose(true)
		}
		return []string{line}
	})
	toClient := frameHook(ToClient, func(s *Session, m protocol.Message, err error, line string) []string {
		// The sender's own copy, so that each DATA is copied once.
		if m.Kind == protocol.KindData && err == nil && s.Joined() && m.Name == s.ServerName() {
			for _, o := range s.Proxy().Sessions() {
				if _, ok := o.Vars.Load(quit); ok && o != s {
					_ = o.Inject(ToClient, line)
				}
			}
		}
		return []string{line}
	})
	return Fault{Frame: bothHooks(toServer, toClient)}
}

func errorMutants() []Mutant {
	return []Mutant{
		{
			Name:   "unknown-ignored",
			Breaks: "an unknown command is answered with J_ER",
			Level:  Must,
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToServer, func(_ *Session, _ protocol.Message, err error, _ string) bool {
					return errors.Is(err, protocol.ErrUnknownCommand)
				})}
			},
		},
		{
			Name:   "close-after-unknown",
			Breaks: "after J_ER to an unknown command the connection stays open and usable",
			Level:  Should,
			Fault: func() Fault {
				const closeNext = "faultproxy.closeAfterError"
				toServer := frameHook(ToServer, func(s *Session, _ protocol.Message, err error, line string) []string {
					if errors.Is(err, protocol.ErrUnknownCommand) {
						s.Vars.Store(closeNext, true)
					}
					return []string{line}
				})
				toClient := frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindError {
						if _, ok := s.Vars.LoadAndDelete(closeNext); ok {
							_ = s.Inject(ToClient, line)
							s.Close()
							return nil
						}
					}
					return []string{line}
				})
				return Fault{Frame: bothHooks(toServer, toClient)}
			},
		},
		{
			Name:   "malformed-ignored",
			Breaks: "a known command with the wrong shape (\"JOIN\" alone, \"DATA\" without ':') is answered with J_ER",
			Level:  Must,
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToServer, func(_ *Session, _ protocol.Message, err error, _ string) bool {
					return errors.Is(err, protocol.ErrMalformed)
				})}
			},
		},
	}
}

func framingMutants() []Mutant {
	return []Mutant{
		{
			Name:     "first-line-per-read",
			Breaks:   "two messages in one TCP write are both handled",
			Level:    Must,
			LineOnly: true,
			Fault: func() Fault {
				return Fault{Raw: func(_ *Session, chunk []byte) []byte {
					if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
						return chunk[:i+1]
					}
					return chunk
				}}
			},
			Note: "Raw: keeps the first line of each read(); lines a client writes separately but in quick succession may reach the proxy in one read and be lost too",
		},
		{
			Name:     "read-is-message",
			Breaks:   "one message split across TCP writes is handled as one message",
			Level:    Must,
			LineOnly: true,
			Fault: func() Fault {
				return Fault{Raw: func(_ *Session, chunk []byte) []byte {
					if !bytes.HasSuffix(chunk, []byte{'\n'}) {
						return append(chunk, '\n')
					}
					return chunk
				}}
			},
			Note: "Raw: ends every read() that does not end a line",
		},
		{
			Name:     "crlf-refused",
			Breaks:   "a client's lines ending in \"\\r\\n\" are accepted",
			Level:    Should,
			LineOnly: true,
			Fault: func() Fault {
				return Fault{Raw: func(_ *Session, chunk []byte) []byte {
					chunk = bytes.ReplaceAll(chunk, []byte("\r\n"), []byte("!\n"))
					if bytes.HasSuffix(chunk, []byte{'\r'}) {
						chunk[len(chunk)-1] = '!'
					}
					return chunk
				}}
			},
			Note: "Raw: the server sees a '!' where the client sent '\\r', as a server that keeps the '\\r' sees a name or text it refuses",
		},
	}
}

// Legal returns the legal variations of a server: the suite must pass each
// of them at the MUST level (see each one's Note for SHOULD warnings it may
// cost).
func Legal() []Mutant {
	listRewrite := func(name, note string, rewrite func([]string) string) Mutant {
		return Mutant{Name: name, Note: note, Fault: func() Fault {
			return Fault{Frame: frameHook(ToClient, func(_ *Session, m protocol.Message, err error, line string) []string {
				if m.Kind == protocol.KindList && err == nil {
					return []string{rewrite(m.Names)}
				}
				return []string{line}
			})}
		}}
	}
	return []Mutant{
		{
			Name:     "crlf-endings",
			LineOnly: true,
			Note:     "every line from the server ends in \"\\r\\n\"",
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToClient, func(s *Session, _ protocol.Message, _ error, line string) []string {
					if s.Framing() == protocol.FramingLine {
						return []string{line + "\r"}
					}
					return []string{line}
				})}
			},
		},
		{
			Name: "close-after-jer",
			Note: "the server closes the connection after every J_ER; costs the SHOULD rules that reuse a connection after J_ER",
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindError {
						_ = s.Inject(ToClient, line)
						s.Close()
						return nil
					}
					return []string{line}
				})}
			},
		},
		{
			Name: "other-jer-codes",
			Note: "every J_ER is \"J_ER E42: nope\"",
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToClient, func(_ *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindError {
						return []string{protocol.Message{Kind: protocol.KindError, Code: "E42", Text: "nope"}.String()}
					}
					return []string{line}
				})}
			},
		},
		listRewrite("list-reversed", "LIST names in reverse order", func(names []string) string {
			slices.Reverse(names)
			return protocol.List(names).String()
		}),
		listRewrite("list-rotated", "LIST names rotated by one (the first last)", func(names []string) string {
			if len(names) > 1 {
				names = append(names[1:], names[0])
			}
			return protocol.List(names).String()
		}),
		{
			Name: "extra-spaces",
			Note: "\"LIST  a   b \" with runs of spaces and a trailing one, and \"J_OK \" with a trailing space",
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToClient, func(_ *Session, m protocol.Message, err error, line string) []string {
					switch {
					case m.Kind == protocol.KindOK:
						return []string{protocol.VerbOK + " "}
					case m.Kind == protocol.KindList && err == nil:
						// Odd spacing on purpose, so written by hand.
						return []string{protocol.VerbList + "  " + strings.Join(m.Names, "   ") + " "}
					}
					return []string{line}
				})}
			},
		},
		{
			Name: "requires-addr",
			Note: "a JOIN without \", <host>:<port>\" is refused with J_ER 400: the assignment's JOIN has it, so the suite must always send it",
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, err error, line string) []string {
					if m.Kind == protocol.KindJoin && err == nil && m.Addr == "" {
						_ = s.Inject(ToClient, errorLine(protocol.CodeBadCommand))
						return nil
					}
					return []string{line}
				})}
			},
		},
		{
			Name:  "ghost-user",
			Note:  "a user \"fpghost\" joined directly on the server before any test client, alive until the proxy closes",
			Fault: func() Fault { return Fault{Ghosts: []string{"fpghost"}} },
		},
	}
}

// firstRunes returns the first n runes of s.
func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// cleanText drops what makes a DATA text invalid: bad UTF-8 and control
// characters.
func cleanText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || 0x7f <= r && r < 0xa0 || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}
