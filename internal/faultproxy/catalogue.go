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
	"github.com/chatspec/chatspec/reference/chatserver"
)

// Catalogue returns every server of the project's self-test: broken
// servers, each breaking one rule; deviant servers built like the ones
// students hand in (reformatted messages, no delimiter, dying threads);
// noisy servers whose traffic must not disturb other scenarios; and the
// legal variations the suite must pass. Names are unique; rules are named
// by their IDs, as the features' @rule: tags spell them.
func Catalogue() []Mutant {
	return slices.Concat(joining(), duplicates(), messages(), presence(), heartbeat(), quitting(), errorsGroup(), framing(), robustness(), deviants(), legal())
}

// The rules that need a working relay of DATA to reach what they test: a
// server that relays nothing leaves them not graded.
var needRelay = []string{
	"joining.unjoined-receive-nothing", "duplicates.no-takeover", "messages.data-shape",
	"messages.colons", "messages.length-ok", "messages.too-long", "messages.unjoined-nobody", "messages.unjoined-refused",
	"messages.impersonation", "messages.control-chars", "heartbeat.keep-alive",
	"quitting.nothing-after", "errors.keeps-session", "framing.two-in-one",
	"robustness.huge-line", "robustness.junk", "robustness.silent-connection", "robustness.slow-reader",
}

// The rules whose precondition is a LIST naming a joiner, sent to the
// clients already there.
var needListOnJoin = []string{
	"presence.list-on-quit", "presence.list-on-close", "presence.list-shape",
	"heartbeat.drop-silent", "robustness.reset",
}

// RefuseNames returns a mutant that answers J_ER (code 410) itself to a
// JOIN of a valid name that refuse selects, and does not forward it.
func RefuseNames(name, does string, refuse func(name string) bool) Mutant {
	return Mutant{Name: name, Does: does, Fails: []string{"joining.valid-name"}, Fault: func() Fault {
		return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, err error, line string) []string {
			if m.Kind == protocol.KindJoin && err == nil && !s.Joined() && refuse(m.Name) {
				_ = s.Inject(ToClient, errorLine(protocol.CodeInvalidName))
				return nil
			}
			return []string{line}
		})}
	}}
}

// AcceptInvalidNames returns a mutant that accepts a JOIN whose name is
// invalid when accept selects it: the server gets a fresh valid name, the
// clients keep seeing the invalid one in LIST and DATA.
func AcceptInvalidNames(name, does string, accept func(name string) bool) Mutant {
	return Mutant{Name: name, Does: does, Fails: []string{"joining.invalid-name"}, Fault: func() Fault {
		return aliasFault(func(_ *Session, m protocol.Message, err error) bool {
			return errors.Is(err, protocol.ErrInvalidName) && accept(m.Name)
		})
	}}
}

// rewriteToClient returns a Fault that replaces each frame to the client
// that rewrite changes.
func rewriteToClient(rewrite func(s *Session, m protocol.Message, err error, line string) []string) func() Fault {
	return func() Fault { return Fault{Frame: frameHook(ToClient, rewrite)} }
}

func joining() []Mutant {
	return []Mutant{
		{
			Name: "reject-uppercase", Does: "tells a client with an upper-case letter in its name J_ER, though it is in the room",
			Fails: []string{"joining.valid-name"},
			Fault: rewriteToClient(func(s *Session, m protocol.Message, _ error, line string) []string {
				if m.Kind == protocol.KindOK && hasUpper(s.Name()) {
					return []string{errorLine(protocol.CodeInvalidName)}
				}
				return []string{line}
			}),
		},
		RefuseNames("refuse-hyphen", "refuses a name with '-'", func(n string) bool { return strings.Contains(n, "-") }),
		RefuseNames("refuse-12-chars", "refuses a name of exactly 12 characters", func(n string) bool { return len(n) == protocol.MaxNameLen }),
		RefuseNames("refuse-one-char", "refuses a name of one character", func(n string) bool { return len(n) == 1 }),
		RefuseNames("refuse-digits-only", "refuses a name of digits only", func(n string) bool { return strings.Trim(n, "0123456789") == "" }),
		RefuseNames("refuse-underscore", "refuses a name with '_'", func(n string) bool { return strings.Contains(n, "_") }),
		AcceptInvalidNames("accept-13-chars", "accepts a name of 13 characters",
			func(n string) bool { return utf8.RuneCountInString(n) > protocol.MaxNameLen }),
		AcceptInvalidNames("accept-space", "accepts a name with a space",
			func(n string) bool { return strings.ContainsAny(n, " \t") }),
		withSkips(AcceptInvalidNames("accept-punctuation", "accepts a name with '!' or '.'",
			func(n string) bool { return strings.ContainsAny(n, "!\"#$%&'()*+./;<=>?@[\\]^`{|}~") }),
			"errors.jer-shape", "errors.keeps-session"),
		AcceptInvalidNames("accept-non-ascii", "accepts a name with 'ø'",
			func(n string) bool { return strings.ContainsFunc(n, func(r rune) bool { return r >= utf8.RuneSelf }) }),
		AcceptInvalidNames("accept-empty", "accepts an empty name", func(n string) bool { return n == "" }),
		{
			Name: "rejoin-accepted", Does: "answers J_OK to a second JOIN on a joined connection",
			Fails: []string{"joining.rejoin"},
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
			Name: "ok-with-text", Does: `answers "J_OK welcome <name>!"`,
			Fails: []string{"joining.ok-shape"},
			Fault: rewriteToClient(func(s *Session, m protocol.Message, _ error, line string) []string {
				if m.Kind == protocol.KindOK {
					return []string{"J_OK welcome " + s.Name() + "!"}
				}
				return []string{line}
			}),
		},
		{
			Name: "ok-glued-to-list", Does: `writes J_OK and the LIST after it with no line end between: "J_OKLIST a b"`,
			Fails: []string{"joining.ok-shape"},
			Fault: func() Fault {
				held := &perSession[bool]{}
				return Fault{Frame: frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
					var glue bool
					held.with(s, func(h *bool) {
						switch {
						case m.Kind == protocol.KindOK:
							*h = true
						case m.Kind == protocol.KindList && *h:
							*h, glue = false, true
						}
					})
					switch {
					case m.Kind == protocol.KindOK:
						return nil
					case glue:
						return []string{protocol.VerbOK + line}
					}
					return []string{line}
				})}
			},
			Note: "a J_ER is never glued; a J_OK is held until the LIST that follows it",
		},
		{
			Name: "greeting", Does: `greets every connection with "Welcome to the chat server!" before anything else`,
			Fails: []string{"joining.no-greeting"},
			Fault: func() Fault {
				greeted := &perSession[bool]{}
				return Fault{Frame: func(s *Session, d Direction, line string) []string {
					var first bool
					greeted.with(s, func(g *bool) { first, *g = !*g, true })
					if first && d == ToServer {
						_ = s.Inject(ToClient, "Welcome to the chat server!")
					}
					return []string{line}
				}}
			},
			Note: "the greeting is sent when the client's first line arrives, which is when a client can first see it anyway",
		},
		{
			Name: "unjoined-get-everything", Does: "sends every DATA and LIST to connections that have not joined too",
			Fails: []string{"joining.unjoined-receive-nothing"},
			Fault: func() Fault {
				joinSent := &perSession[bool]{}
				toServer := func(s *Session, _ Direction, line string) []string {
					if m, _ := protocol.Parse(line); m.Kind == protocol.KindJoin {
						joinSent.with(s, func(j *bool) { *j = true })
					}
					return []string{line}
				}
				toClient := frameHook(ToClient, func(s *Session, m protocol.Message, err error, line string) []string {
					// The sender's copy of a DATA, and the joiner's LIST,
					// go to every session that has sent no JOIN.
					if err == nil && (m.Kind == protocol.KindData && m.Name == s.ServerName() || m.Kind == protocol.KindList && slices.Contains(m.Names, s.ServerName())) {
						var lurkers []*Session
						for _, o := range s.Proxy().Sessions() {
							sent := true
							joinSent.with(o, func(j *bool) { sent = *j })
							if !sent && o != s {
								lurkers = append(lurkers, o)
							}
						}
						for _, o := range lurkers {
							_ = o.Inject(ToClient, line)
						}
					}
					return []string{line}
				})
				return Fault{Frame: bothHooks(toServer, toClient)}
			},
		},
	}
}

// deviants are servers built like ones students hand in, whose faults
// reach further than one rule.
func deviants() []Mutant {
	return []Mutant{
		{
			Name: "ok-then-silence", Does: "answers JOIN with J_OK on the connection but sends every LIST and DATA elsewhere (UDP, in the hand-in this imitates)",
			Fails: []string{"messages.to-others", "messages.echo", "presence.list-on-join", "presence.list-to-joiner"},
			Skips: []string{
				"joining.unjoined-receive-nothing", "duplicates.no-takeover", "messages.data-shape", "messages.colons",
				"messages.length-ok", "messages.too-long", "messages.unjoined-nobody", "messages.unjoined-refused", "messages.impersonation",
				"messages.control-chars", "presence.list-on-quit", "presence.list-on-close", "presence.list-shape",
				"quitting.nothing-after", "errors.keeps-session", "framing.two-in-one", "robustness.huge-line",
				"robustness.junk", "robustness.silent-connection", "robustness.reset",
			},
			Note: "the four rules about what the server sends on a client's connection fail; every rule that needs a DATA or a LIST to arrive is not graded; the report's first finding says where the trouble is",
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToClient, func(_ *Session, m protocol.Message, _ error, _ string) bool {
					return m.Kind == protocol.KindList || m.Kind == protocol.KindData
				})}
			},
		},
		{
			Name: "line-is-name", Does: "takes the whole first line for the user name, JOIN and address included",
			CannotGrade: true,
			Fault:       lineIsName,
		},
		{
			Name: "line-is-name-bare", Does: "takes the whole first line for the user name, graded with -join bare",
			BareJoin: true,
			Fails:    []string{"joining.invalid-name", "messages.unjoined-refused", "errors.malformed"},
			Skips:    []string{"errors.jer-shape", "errors.keeps-session"},
			Note: "with -join bare the suite joins with the name alone, and grades everything else; a server that takes any first line for a name checks no name, " +
				"and takes a DATA or a bare JOIN sent first for one",
			Fault: lineIsName,
		},
		{
			Name: "full-after-probe", Does: "refuses every JOIN with J_ER 503 once two clients have joined (a client limit that nobody leaving frees)",
			Fails: []string{"joining.valid-name"}, SkipRest: true,
			Concurrency: 1,
			Fault: func() Fault {
				var mu sync.Mutex
				joins := 0 // guarded by mu
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind != protocol.KindJoin || s.Joined() {
						return []string{line}
					}
					mu.Lock()
					joins++
					full := joins > 2
					mu.Unlock()
					if full {
						_ = s.Inject(ToClient, errorLine(protocol.CodeServerFull))
						return nil
					}
					return []string{line}
				})}
			},
			Note: "the suite's probe joins two clients; every scenario after meets a full server: no rule about a refusal may pass, since the server refuses valid requests too",
		},
	}
}

// lineIsName makes the server take a session's first line, whatever it is,
// for the user name (refusing a name in use, and checking nothing else):
// the server gets a fresh valid name, and the clients see the whole line
// where the name would be.
func lineIsName() Fault {
	a := newAliases()
	type joined struct{ line, server string }
	names := &perSession[joined]{} // what each session joined as
	inUse := newNameSet()
	toServer := func(s *Session, _ Direction, line string) []string {
		var j joined
		first := false
		names.with(s, func(n *joined) {
			if n.line == "" && !inUse.has(line) {
				*n, first = joined{line: line, server: a.fresh(line)}, true
				inUse.add(line)
			}
			j = *n
		})
		switch m, err := protocol.Parse(line); {
		case first:
			return []string{protocol.Join(j.server, "").String()}
		case j.line == "":
			_ = s.Inject(ToClient, errorLine(protocol.CodeDuplicateName))
			return nil
		case err == nil && m.Kind == protocol.KindData && m.Name == j.line:
			return []string{protocol.Data(j.server, m.Text).String()}
		case err == nil && m.Kind == protocol.KindQuit:
			inUse.remove(j.line)
		}
		return []string{line}
	}
	toClient := func(_ *Session, _ Direction, line string) []string {
		m, err := protocol.Parse(line)
		if err != nil {
			return []string{line}
		}
		switch m.Kind {
		case protocol.KindData:
			return []string{protocol.VerbData + " " + a.clientName(m.Name) + ": " + m.Text}
		case protocol.KindList:
			names := make([]string, len(m.Names))
			for i, n := range m.Names {
				names[i] = a.clientName(n)
			}
			return []string{protocol.VerbList + " " + strings.Join(names, " ")}
		}
		return []string{line}
	}
	return Fault{
		Frame:      bothHooks(toServer, toClient),
		ClientGone: func(s *Session) { names.with(s, func(n *joined) { inUse.remove(n.line) }) },
	}
}

// withSkips adds rules the mutant leaves not graded.
func withSkips(m Mutant, rules ...string) Mutant {
	m.Skips = append(m.Skips, rules...)
	return m
}

func duplicates() []Mutant {
	return []Mutant{
		{
			Name: "accept-duplicate", Does: "accepts a JOIN with the name of an active user",
			Fails: []string{"duplicates.refused"},
			Skips: []string{"duplicates.no-takeover", "errors.keeps-session", "errors.jer-shape"},
			Maybe: []string{"robustness.join-race"},
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
			Note: "only names in use by clients that joined through the proxy count: in the race of ten JOINs of one name, whether a later JOIN finds the first accepted already is a race, so robustness.join-race may fail too",
		},
		{
			Name: "duplicate-evicts", Does: "refuses a duplicate name, but drops the active user who holds it",
			Fails: []string{"duplicates.no-takeover"},
			Fault: func() Fault {
				tried := &perSession[string]{} // the taken name a session asked for
				toServer := frameHook(ToServer, func(s *Session, m protocol.Message, err error, line string) []string {
					if m.Kind == protocol.KindJoin && err == nil && !s.Joined() {
						tried.with(s, func(n *string) { *n = m.Name })
					}
					return []string{line}
				})
				toClient := frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind != protocol.KindError {
						return []string{line}
					}
					var name string
					tried.with(s, func(n *string) { name, *n = *n, "" })
					for _, o := range s.Proxy().Sessions() {
						if name != "" && o != s && o.Joined() && o.Name() == name {
							o.SetKeepClientOnUpstreamClose(true)
							o.closeUpstream()
						}
					}
					return []string{line}
				})
				return Fault{Frame: bothHooks(toServer, toClient)}
			},
			Maybe: []string{"robustness.join-race"},
			Note: "after the server's J_ER to the duplicate, the holder's connection to the server closes (the server removes it) while its client stays connected and unaware; " +
				"in the race of ten JOINs of one name, whether the winner's J_OK passes before a loser's J_ER evicts it is a race, so robustness.join-race may fail too",
		},
		{
			Name: "name-kept-after-quit", Does: "keeps the name of a user who quit taken",
			Fails: []string{"quitting.name-free"},
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

func messages() []Mutant {
	relayAll := slices.Concat(needRelay)
	return []Mutant{
		{
			Name: "no-echo", Does: "does not send a DATA back to its sender",
			Fails: []string{"messages.echo"},
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToClient, func(s *Session, m protocol.Message, err error, _ string) bool {
					return m.Kind == protocol.KindData && err == nil && s.Joined() && m.Name == s.ServerName()
				})}
			},
		},
		{
			Name: "no-delivery-to-others", Does: "sends a DATA back to its sender only",
			Fails: []string{"messages.to-others"}, Skips: relayAll,
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToClient, func(s *Session, m protocol.Message, err error, _ string) bool {
					return m.Kind == protocol.KindData && err == nil && m.Name != s.ServerName()
				})}
			},
		},
		{
			Name: "refuses-all-data", Does: "answers every DATA with J_ER and relays none",
			Fails: []string{"messages.to-others", "messages.echo"}, Skips: relayAll,
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindData {
						_ = s.Inject(ToClient, errorLine(protocol.CodeTextTooLong))
						return nil
					}
					return []string{line}
				})}
			},
			Note: "a server that refuses every text must not pass the rule that a long text is refused",
		},
		{
			Name: "data-reformatted", Does: `relays "DATA alice: hi" as "alice: hi"`,
			Fails: []string{"messages.data-shape"},
			Fault: rewriteToClient(func(_ *Session, m protocol.Message, err error, line string) []string {
				if m.Kind == protocol.KindData && err == nil {
					return []string{m.Name + ": " + m.Text}
				}
				return []string{line}
			}),
		},
		{
			Name: "data-bracketed", Does: `relays "DATA alice: hi" as "[alice] : hi"`,
			Fails: []string{"messages.data-shape"},
			Fault: rewriteToClient(func(_ *Session, m protocol.Message, err error, line string) []string {
				if m.Kind == protocol.KindData && err == nil {
					return []string{"[" + m.Name + "] : " + m.Text}
				}
				return []string{line}
			}),
		},
		{
			Name: "count-bytes", Does: "counts the 250-character limit in bytes (250 'ø' are refused)",
			Fails: []string{"messages.length-ok"},
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
			Name: "accept-long-text", Does: "relays a text over 250 characters, cut to 250",
			Fails: []string{"messages.too-long"}, Skips: []string{"errors.jer-shape"},
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(_ *Session, m protocol.Message, err error, line string) []string {
					if m.Kind == protocol.KindData && errors.Is(err, protocol.ErrTextTooLong) {
						return []string{protocol.Data(m.Name, firstRunes(m.Text, protocol.MaxTextLen)).String()}
					}
					return []string{line}
				})}
			},
		},
		{
			Name: "text-cut-at-colon", Does: "cuts a DATA text at its first colon",
			Fails: []string{"messages.colons"},
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
			Name: "data-before-join-ignored", Does: "ignores DATA from a connection that has sent no JOIN",
			Fails: []string{"messages.unjoined-refused"},
			Fault: func() Fault {
				joinSent := &perSession[bool]{}
				return Fault{Frame: dropWhere(ToServer, func(s *Session, m protocol.Message, _ error, _ string) bool {
					var sent bool
					joinSent.with(s, func(j *bool) {
						*j = *j || m.Kind == protocol.KindJoin
						sent = *j
					})
					return m.Kind == protocol.KindData && !sent
				})}
			},
			Note: "only on connections that have sent no JOIN at all: a DATA sent with the JOIN, before its J_OK, still counts",
		},
		{
			Name: "unjoined-data-broadcast", Does: "relays DATA from a connection that has not joined",
			Fails: []string{"messages.unjoined-nobody"},
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindData && !s.Joined() {
						for _, o := range s.Proxy().Sessions() {
							if o.Joined() {
								_ = o.Inject(ToClient, line)
							}
						}
					}
					return []string{line}
				})}
			},
		},
		{
			Name: "impersonation-broadcast", Does: "relays a DATA under another user's name",
			Fails: []string{"messages.impersonation"},
			Fault: impersonationFault,
		},
		{
			Name: "accept-control-chars", Does: "relays a text with control characters, with them removed",
			Fails: []string{"messages.control-chars"},
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(_ *Session, m protocol.Message, err error, line string) []string {
					if m.Kind == protocol.KindData && errors.Is(err, protocol.ErrInvalidText) {
						return []string{protocol.Data(m.Name, cleanText(m.Text)).String()}
					}
					return []string{line}
				})}
			},
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

// dropListsThat drops the LISTs to joined clients that drop selects, given
// the session's previous LIST (nil for its first).
func dropListsThat(drop func(s *Session, prev, names []string) bool) func() Fault {
	return func() Fault {
		last := &lastList{}
		return Fault{Frame: frameHook(ToClient, func(s *Session, m protocol.Message, err error, line string) []string {
			if m.Kind != protocol.KindList || err != nil || !s.Joined() {
				return []string{line}
			}
			if drop(s, last.swap(s, m.Names), m.Names) {
				return nil
			}
			return []string{line}
		})}
	}
}

// addsName reports whether names holds a name prev does not.
func addsName(prev, names []string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return !slices.Contains(prev, n) })
}

func presence() []Mutant {
	return []Mutant{
		{
			Name: "no-list-to-joiner", Does: "sends no LIST to the client that just joined",
			Fails: []string{"presence.list-to-joiner"},
			Fault: dropListsThat(func(_ *Session, prev, _ []string) bool { return prev == nil }),
		},
		{
			Name: "no-list-to-others", Does: "sends no LIST to the clients already there when a user joins",
			Fails: []string{"presence.list-on-join"}, Skips: needListOnJoin,
			Fault: dropListsThat(func(_ *Session, prev, names []string) bool { return prev != nil && addsName(prev, names) }),
		},
		{
			Name: "list-except-joins", Does: "sends a LIST on every change but a join (noisy: other scenarios' quits still bring LISTs naming everyone)",
			Fails: []string{"presence.list-on-join", "presence.list-to-joiner"}, Skips: needListOnJoin,
			Fault: dropListsThat(func(_ *Session, prev, names []string) bool { return prev == nil || addsName(prev, names) }),
		},
		{
			Name: "list-before-jok", Does: "sends the joiner's first LIST before its J_OK",
			Fails: []string{"presence.ok-first"},
			Fault: func() Fault {
				held := &perSession[string]{}
				return Fault{Frame: frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
					var out []string
					held.with(s, func(ok *string) {
						switch {
						case m.Kind == protocol.KindOK:
							*ok = line
						case m.Kind == protocol.KindList && *ok != "":
							out, *ok = []string{line, *ok}, ""
						default:
							out = []string{line}
						}
					})
					return out
				})}
			},
		},
		{
			Name: "list-except-quits", Does: "sends no LIST when a user quits (noisy: other scenarios' joins still bring LISTs without the quitter)",
			Fails: []string{"presence.list-on-quit"},
			Fault: func() Fault {
				quit := newNameSet()
				last := &lastList{}
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
					prev := last.swap(s, m.Names)
					if slices.ContainsFunc(prev, func(n string) bool { return quit.has(n) && !slices.Contains(m.Names, n) }) {
						return nil
					}
					return []string{line}
				})
				return Fault{Frame: bothHooks(toServer, toClient)}
			},
		},
		{
			Name: "list-keeps-quitter", Does: "keeps a user who quit in every LIST",
			Fails: []string{"presence.list-on-quit"},
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
			Name: "slow-disconnect-notice", Does: "never notices a connection that closes without QUIT",
			Fails: []string{"presence.list-on-close", "robustness.reset"},
			Fault: func() Fault { return Fault{KeepUpstreamOnClose: true, KeepUpstreamAlive: true} },
			Note:  "the proxy keeps the user alive with IMAV every 100ms until it closes",
		},
		{
			Name: "list-commas", Does: `separates LIST names with commas: "LIST a,b"`,
			Fails: []string{"presence.list-shape"},
			Fault: rewriteToClient(func(_ *Session, m protocol.Message, err error, line string) []string {
				if m.Kind == protocol.KindList && err == nil {
					return []string{protocol.VerbList + " " + strings.Join(m.Names, ",")}
				}
				return []string{line}
			}),
		},
		{
			Name: "list-colon", Does: `writes "LIST: a b"`,
			Fails: []string{"presence.list-shape"},
			Fault: rewriteToClient(func(_ *Session, m protocol.Message, err error, line string) []string {
				if m.Kind == protocol.KindList && err == nil {
					return []string{protocol.VerbList + ": " + strings.Join(m.Names, " ")}
				}
				return []string{line}
			}),
		},
	}
}

func heartbeat() []Mutant {
	return []Mutant{
		{
			Name: "never-drops-silent", Does: "never drops a client that stops sending",
			Fails:  []string{"heartbeat.drop-silent", "heartbeat.close-silent"},
			Server: chatserver.Config{HeartbeatTimeout: time.Hour},
		},
		{
			Name: "ignores-imav", Does: "does not count IMAV as a sign of life",
			Fails: []string{"heartbeat.keep-alive"}, Maybe: []string{"heartbeat.drop-silent"},
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToServer, func(_ *Session, m protocol.Message, err error, _ string) bool {
					return m.Kind == protocol.KindAlive && err == nil
				})}
			},
			Note: "any client that sends only IMAV for longer than the heartbeat timeout is dropped: in heartbeat.drop-silent the observer is dropped about when the silent client is, so whether the suite sees the silent one go first is a race",
		},
		{
			Name: "expired-stays-listed", Does: "drops a silent client but goes on naming it in every LIST (a vanished client that stays in the list)",
			Fails: []string{"heartbeat.drop-silent"},
			Fault: func() Fault {
				var mu sync.Mutex
				heard := make(map[string]time.Time) // name -> when its client last sent a frame; guarded by mu
				gone := newNameSet()                // names whose client quit or left
				toServer := frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					name := s.ServerName()
					if m.Kind == protocol.KindJoin && name == "" {
						name = m.Name
					}
					if name != "" {
						mu.Lock()
						heard[name] = time.Now()
						mu.Unlock()
						if m.Kind == protocol.KindQuit {
							gone.add(name)
						}
					}
					return []string{line}
				})
				// expired lists the names whose clients are still there but
				// have been silent for long: those the server expires.
				expired := func() []string {
					mu.Lock()
					defer mu.Unlock()
					var out []string
					for n, at := range heard {
						if !gone.has(n) && time.Since(at) > time.Second {
							out = append(out, n)
						}
					}
					return out
				}
				toClient := frameHook(ToClient, func(_ *Session, m protocol.Message, err error, line string) []string {
					if m.Kind != protocol.KindList || err != nil {
						return []string{line}
					}
					names := m.Names
					for _, n := range expired() {
						if !slices.Contains(names, n) {
							names = append(names, n)
						}
					}
					return []string{protocol.List(names).String()}
				})
				return Fault{
					Frame:      bothHooks(toServer, toClient),
					ClientGone: func(s *Session) { gone.add(s.ServerName()) },
				}
			},
			Note: "a client silent for over 1s is the one expiring: the self-test's slow pass has clients beat every 250ms and the server expire them after 2s",
		},
		{
			Name: "dropped-left-open", Does: "drops a silent client but leaves its connection open",
			Fails: []string{"heartbeat.close-silent"},
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
		{
			Name: "imav-answered-jer", Does: "answers IMAV with J_ER",
			Fails: []string{"heartbeat.no-reply"},
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindAlive {
						_ = s.Inject(ToClient, protocol.Error(protocol.CodeUnknownCommand, "what is IMAV?").String())
					}
					return []string{line}
				})}
			},
		},
	}
}

func quitting() []Mutant {
	return []Mutant{
		{
			Name: "quit-ignored", Does: "ignores QUIT",
			Fails: []string{"presence.list-on-quit", "quitting.name-free", "quitting.nothing-after", "quitting.closes"},
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToServer, func(_ *Session, m protocol.Message, _ error, _ string) bool {
					return m.Kind == protocol.KindQuit
				})}
			},
			Note: "a server that ignores QUIT breaks every rule about QUIT at once",
		},
		{
			Name: "data-after-quit", Does: "goes on sending DATA to a client that quit (so it cannot close its connection either)",
			Fails: []string{"quitting.nothing-after", "quitting.closes"},
			Fault: dataAfterQuitFault,
			Note:  "the quitter is removed (the rest get their LIST), but its connection stays open and still receives every DATA",
		},
		{
			Name: "open-after-quit", Does: "leaves the connection open after QUIT",
			Fails: []string{"quitting.closes"},
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindQuit {
						s.SetKeepClientOnUpstreamClose(true)
					}
					return []string{line}
				})}
			},
		},
	}
}

// dataAfterQuitFault keeps the connection of a client that quit open and
// copies to it every DATA that a client of the proxy sends.
func dataAfterQuitFault() Fault {
	quit := &perSession[bool]{}
	toServer := frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
		if m.Kind == protocol.KindQuit && s.Joined() {
			quit.with(s, func(q *bool) { *q = true })
			s.SetKeepClientOnUpstreamClose(true)
		}
		return []string{line}
	})
	toClient := frameHook(ToClient, func(s *Session, m protocol.Message, err error, line string) []string {
		// The sender's own copy, so that each DATA is copied once.
		if m.Kind == protocol.KindData && err == nil && s.Joined() && m.Name == s.ServerName() {
			var quitters []*Session
			quit.each(func(o *Session, q *bool) {
				if *q && o != s {
					quitters = append(quitters, o)
				}
			})
			for _, o := range quitters {
				_ = o.Inject(ToClient, line)
			}
		}
		return []string{line}
	})
	return Fault{Frame: bothHooks(toServer, toClient)}
}

func errorsGroup() []Mutant {
	return []Mutant{
		{
			Name: "unknown-ignored", Does: "ignores an unknown command",
			Fails: []string{"errors.unknown"}, Skips: []string{"errors.jer-shape", "errors.keeps-session"},
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToServer, func(_ *Session, _ protocol.Message, err error, _ string) bool {
					return errors.Is(err, protocol.ErrUnknownCommand)
				})}
			},
		},
		{
			Name: "close-after-unknown", Does: "closes the connection after the J_ER to an unknown command",
			Fails: []string{"errors.keeps-session"},
			Fault: func() Fault {
				pending := &perSession[bool]{}
				toServer := frameHook(ToServer, func(s *Session, _ protocol.Message, err error, line string) []string {
					if errors.Is(err, protocol.ErrUnknownCommand) {
						pending.with(s, func(p *bool) { *p = true })
					}
					return []string{line}
				})
				toClient := frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
					var closeNow bool
					if m.Kind == protocol.KindError {
						pending.with(s, func(p *bool) { closeNow, *p = *p, false })
					}
					if closeNow {
						_ = s.Inject(ToClient, line)
						s.Close()
						return nil
					}
					return []string{line}
				})
				return Fault{Frame: bothHooks(toServer, toClient)}
			},
		},
		{
			Name: "malformed-ignored", Does: `ignores a known command of the wrong shape ("JOIN" alone, "DATA" without ':')`,
			Fails: []string{"errors.malformed"},
			Fault: func() Fault {
				return Fault{Frame: dropWhere(ToServer, func(_ *Session, _ protocol.Message, err error, _ string) bool {
					return errors.Is(err, protocol.ErrMalformed)
				})}
			},
		},
		{
			Name: "jer-without-code", Does: `answers every error with "J_ER <text>", without a code`,
			Fails: []string{"errors.jer-shape"},
			Fault: rewriteToClient(func(_ *Session, m protocol.Message, _ error, line string) []string {
				if m.Kind == protocol.KindError {
					return []string{protocol.VerbError + " " + m.Text} // malformed on purpose
				}
				return []string{line}
			}),
		},
		{
			Name: "jer-unknown-no-colon", Does: `answers an unknown command with "J_ER 401 unknown command", without a colon`,
			Fails: []string{"errors.jer-shape"},
			Fault: rewriteToClient(func(_ *Session, m protocol.Message, _ error, line string) []string {
				if m.Kind == protocol.KindError && m.Code == "401" {
					return []string{"J_ER 401 unknown command"} // malformed on purpose
				}
				return []string{line}
			}),
		},
		{
			Name: "never-reads-after-jer", Does: "never reads a connection again after it sent it a J_ER (but keeps it open)",
			Fails: []string{"errors.keeps-session"},
			Fault: func() Fault {
				deaf := &perSession[bool]{}
				toServer := func(s *Session, _ Direction, line string) []string {
					var d bool
					deaf.with(s, func(v *bool) { d = *v })
					if d {
						return nil
					}
					return []string{line}
				}
				toClient := frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
					if m.Kind == protocol.KindError {
						deaf.with(s, func(v *bool) { *v = true })
					}
					return []string{line}
				})
				return Fault{Frame: bothHooks(toServer, toClient)}
			},
		},
	}
}

func framing() []Mutant {
	return []Mutant{
		{
			Name: "first-line-per-read", Does: "takes only the first line of a read() that starts with a JOIN and holds more",
			Fails: []string{"framing.two-in-one"}, LineOnly: true,
			Fault: func() Fault {
				return Fault{Raw: func(_ *Session, chunk []byte) []byte {
					if i := bytes.IndexByte(chunk, '\n'); i >= 0 && bytes.HasPrefix(chunk, []byte(protocol.VerbJoin)) {
						return chunk[:i+1]
					}
					return chunk
				}}
			},
			Note: "limited to reads that start with a JOIN, so that what other writes happen to share a read with never decides the outcome",
		},
		{
			Name: "read-is-message", Does: "takes each read() for a whole message",
			Fails: []string{"framing.split"}, LineOnly: true,
			Fault: func() Fault { return Fault{Raw: readIsMessage} },
		},
		{
			Name: "crlf-refused", Does: `keeps the "\r" of a line that ends in "\r\n"`,
			Fails: []string{"framing.crlf"}, LineOnly: true,
			Fault: func() Fault {
				return Fault{Raw: func(_ *Session, chunk []byte) []byte {
					chunk = bytes.ReplaceAll(chunk, []byte("\r\n"), []byte("!\n"))
					if bytes.HasSuffix(chunk, []byte{'\r'}) {
						chunk[len(chunk)-1] = '!'
					}
					return chunk
				}}
			},
			Note: "the server sees a '!' where the client sent '\\r', as a server that keeps the '\\r' sees a name it refuses",
		},
		{
			Name: "raw-server", Does: "writes its messages with no delimiter and takes each read() for one message",
			Fails: []string{"framing.two-in-one", "framing.split"},
			Fault: func() Fault { return Fault{Raw: rawServerReads, RawToClient: true} },
			Note: "graded with -framing auto, which must find raw: the proxy writes the server's lines with no delimiter (those that come together in one write run together), " +
				"and takes a read() that is not a whole line, or that starts with a JOIN and holds more, for one message; other reads it splits into lines, so that what writes happen to share a read never decides the outcome",
		},
	}
}

func robustness() []Mutant {
	return []Mutant{
		{
			Name: "oversized-swallowed", Does: "swallows an oversized line without a word",
			Fails: []string{"robustness.huge-line"}, LineOnly: true,
			Fault: oversizedSwallowed,
			Note:  "Raw: drops every byte of a line past its first 1024, the newline included",
		},
		{
			Name: "blocking-broadcast", Does: "writes each message to every client in turn, so one client that stops reading stalls everyone",
			Fails: []string{"robustness.slow-reader"},
			Fault: blockingBroadcast,
		},
		{
			Name: "idle-blocks-others", Does: "serves nobody while a connection sits silent (a single-threaded server blocked reading it)",
			Fails: []string{"robustness.silent-connection", "joining.unjoined-receive-nothing"},
			Maybe: []string{"errors.jer-shape"},
			Fault: idleBlocksOthers, Concurrency: 1,
			Note: "a server that serves one client at a time is graded one scenario at a time; it still cannot serve the others while a scenario holds a connection open and silent " +
				"(whether the proxy has registered that connection before the next request arrives is a race, so errors.jer-shape may go either way)",
		},
		{
			Name: "crash-on-empty-connection", Does: "stops accepting connections when one closes without sending a byte",
			Fails: []string{"robustness.silent-connection"},
			Skips: []string{"robustness.reset", "robustness.join-race"},
			Fault: func() Fault {
				return Fault{ClientGone: func(s *Session) {
					if s.FromClient() == 0 {
						s.Proxy().Refuse()
					}
				}}
			},
		},
		{
			Name: "accept-thread-dies", Does: "stops accepting (though the port stays open) after a client sends junk",
			Fails: []string{"robustness.junk"},
			Skips: []string{"robustness.silent-connection", "robustness.reset", "robustness.join-race"},
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(s *Session, _ protocol.Message, err error, line string) []string {
					if strings.Contains(line, "junk") {
						s.Proxy().StopAccepting()
					}
					return []string{line}
				})}
			},
			Note: "new connections complete (the kernel accepts them) but nobody ever answers",
		},
		{
			Name: "reader-dies-on-unjoined-data", Does: "stops reading every connection, for good, after a DATA from a connection that has not joined",
			Fails: []string{"messages.unjoined-nobody"},
			Skips: []string{"messages.unjoined-refused", "errors.malformed", "robustness.huge-line", "robustness.junk",
				"robustness.silent-connection", "robustness.reset", "robustness.join-race"},
			Fault: func() Fault {
				joinSent := &perSession[bool]{}
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, _ error, line string) []string {
					var sent bool
					joinSent.with(s, func(j *bool) {
						*j = *j || m.Kind == protocol.KindJoin
						sent = *j
					})
					if m.Kind == protocol.KindData && !sent {
						s.Proxy().Freeze()
						return nil
					}
					return []string{line}
				})}
			},
			Note: "it keeps accepting connections: only a fresh JOIN that gets no answer shows it is dead",
		},
		{
			Name: "join-race-unsafe", Does: "accepts two JOINs of one name that arrive at the same time (an unsynchronised name check)",
			Fails: []string{"robustness.join-race"},
			Fault: joinRaceUnsafe,
		},
	}
}

// readIsMessage ends every read() that does not end a line: a server
// that takes each read for one message.
func readIsMessage(_ *Session, chunk []byte) []byte {
	if !bytes.HasSuffix(chunk, []byte{'\n'}) {
		return append(chunk, '\n')
	}
	return chunk
}

// rawServerReads takes a read() for one message where the framing rules
// look: a read that does not end a line, or one that starts with a JOIN
// and holds more lines, becomes one line.
func rawServerReads(_ *Session, chunk []byte) []byte {
	if bytes.HasPrefix(chunk, []byte(protocol.VerbJoin)) && bytes.Count(chunk, []byte{'\n'}) > 1 {
		chunk = append(bytes.ReplaceAll(bytes.TrimSuffix(chunk, []byte{'\n'}), []byte{'\n'}, []byte{' '}), '\n')
	}
	return readIsMessage(nil, chunk)
}

// joinRaceUnsafe answers J_OK itself to a JOIN that arrives while another
// session's JOIN of the same name awaits its answer.
func joinRaceUnsafe() Fault {
	var mu sync.Mutex
	inFlight := make(map[string]*Session) // name -> the session whose JOIN awaits an answer; guarded by mu
	toServer := frameHook(ToServer, func(s *Session, m protocol.Message, err error, line string) []string {
		if m.Kind != protocol.KindJoin || err != nil || s.Joined() {
			return []string{line}
		}
		mu.Lock()
		other, busy := inFlight[m.Name]
		if !busy {
			inFlight[m.Name] = s
		}
		mu.Unlock()
		if busy && other != s {
			_ = s.Inject(ToClient, protocol.OK().String())
			return nil
		}
		return []string{line}
	})
	toClient := frameHook(ToClient, func(s *Session, m protocol.Message, _ error, line string) []string {
		if m.Kind == protocol.KindOK || m.Kind == protocol.KindError {
			mu.Lock()
			for n, o := range inFlight {
				if o == s {
					delete(inFlight, n)
				}
			}
			mu.Unlock()
		}
		return []string{line}
	})
	return Fault{Frame: bothHooks(toServer, toClient)}
}

func oversizedSwallowed() Fault {
	counts := &perSession[int]{}
	return Fault{Raw: func(s *Session, chunk []byte) []byte {
		var out []byte
		counts.with(s, func(n *int) {
			for len(chunk) > 0 {
				i := bytes.IndexByte(chunk, '\n')
				part := chunk
				if i >= 0 {
					part = chunk[:i+1]
				}
				chunk = chunk[len(part):]
				switch {
				case *n+len(part) <= 1024:
					out = append(out, part...)
				case *n < 1024:
					out = append(out, part[:1024-*n]...)
				}
				*n += len(part)
				if i >= 0 {
					*n = 0 // a line ends here; an oversized one is swallowed with its newline
				}
			}
		})
		return out
	}}
}

func blockingBroadcast() Fault {
	var mu sync.Mutex // held while delivering a frame to a client, so one slow reader holds up all
	return Fault{Frame: func(s *Session, d Direction, line string) []string {
		if d != ToClient {
			return []string{line}
		}
		mu.Lock()
		defer mu.Unlock()
		if err := s.Inject(ToClient, line); err != nil {
			s.Close()
		}
		return nil
	}}
}

// idleBlocksOthers holds every frame to the server while another client has
// connected and sent nothing yet, for up to 10s, as a single-threaded
// server blocked reading that client would. It polls: a silent client
// gives the proxy nothing to wait on.
func idleBlocksOthers() Fault {
	return Fault{Frame: func(s *Session, d Direction, line string) []string {
		if d != ToServer {
			return []string{line}
		}
		// A real single-threaded server waits until the silent
		// connection speaks or closes; the bound is only a safety net,
		// above every wait of the suite, patient ones included.
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			silent := slices.ContainsFunc(s.Proxy().Sessions(), func(o *Session) bool { return o != s && o.FromClient() == 0 })
			if !silent {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		return []string{line}
	}}
}

func legal() []Mutant {
	listRewrite := func(name, does string, rewrite func([]string) string) Mutant {
		return Mutant{Name: name, Does: does, Legal: true, Fault: rewriteToClient(func(_ *Session, m protocol.Message, err error, line string) []string {
			if m.Kind == protocol.KindList && err == nil {
				return []string{rewrite(m.Names)}
			}
			return []string{line}
		})}
	}
	return []Mutant{
		{
			Name: "crlf-endings", Does: `ends every line it sends in "\r\n"`, Legal: true, LineOnly: true, Heavy: true,
			Fault: rewriteToClient(func(_ *Session, _ protocol.Message, _ error, line string) []string { return []string{line + "\r"} }),
		},
		{
			Name: "close-after-jer", Does: "closes the connection after every J_ER", Legal: true,
			Fails: []string{"errors.keeps-session"},
			Fault: rewriteToClient(func(s *Session, m protocol.Message, _ error, line string) []string {
				if m.Kind == protocol.KindError {
					_ = s.Inject(ToClient, line)
					s.Close()
					return nil
				}
				return []string{line}
			}),
			Note: "costs only the SHOULD rule about going on after J_ER",
		},
		{
			Name: "other-jer-codes", Does: `answers every error with "J_ER E42: nope"`, Legal: true,
			Fault: rewriteToClient(func(_ *Session, m protocol.Message, _ error, line string) []string {
				if m.Kind == protocol.KindError {
					return []string{protocol.Message{Kind: protocol.KindError, Code: "E42", Text: "nope"}.String()}
				}
				return []string{line}
			}),
		},
		{
			Name: "jer-no-space", Does: `answers errors as "J_ER 404:text", no space after the colon`, Legal: true,
			Fault: rewriteToClient(func(_ *Session, m protocol.Message, _ error, line string) []string {
				if m.Kind == protocol.KindError {
					return []string{protocol.VerbError + " " + m.Code + ":" + m.Text}
				}
				return []string{line}
			}),
		},
		listRewrite("list-reversed", "sends LIST names in reverse order", func(names []string) string {
			slices.Reverse(names)
			return protocol.List(names).String()
		}),
		listRewrite("list-rotated", "sends LIST names rotated by one (the first last)", func(names []string) string {
			if len(names) > 1 {
				names = append(names[1:], names[0])
			}
			return protocol.List(names).String()
		}),
		{
			Name: "extra-spaces", Does: `writes "LIST  a   b " with runs of spaces and a trailing one, and "J_OK " with a trailing space`, Legal: true,
			Fault: rewriteToClient(func(_ *Session, m protocol.Message, err error, line string) []string {
				switch {
				case m.Kind == protocol.KindOK:
					return []string{protocol.VerbOK + " "}
				case m.Kind == protocol.KindList && err == nil:
					// Odd spacing on purpose, so written by hand.
					return []string{protocol.VerbList + "  " + strings.Join(m.Names, "   ") + " "}
				}
				return []string{line}
			}),
		},
		{
			Name: "requires-addr", Does: `refuses a JOIN without ", <host>:<port>"`, Legal: true,
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, err error, line string) []string {
					if m.Kind == protocol.KindJoin && err == nil && m.Addr == "" {
						_ = s.Inject(ToClient, errorLine(protocol.CodeBadCommand))
						return nil
					}
					return []string{line}
				})}
			},
			Note: "the assignment's JOIN has the address, so the suite always sends it",
		},
		{
			Name: "ghost-user", Does: `has a user "fpghost" in the room all along`, Legal: true,
			Fault: func() Fault { return Fault{Ghosts: []string{"fpghost"}} },
		},
		{
			Name: "echoes-junk-to-all", Does: "repeats every line it does not understand to every joined client (noisy)", Legal: true,
			Fault: func() Fault {
				return Fault{Frame: frameHook(ToServer, func(s *Session, _ protocol.Message, err error, line string) []string {
					if errors.Is(err, protocol.ErrUnknownCommand) || errors.Is(err, protocol.ErrMalformed) {
						for _, o := range s.Proxy().Sessions() {
							if o.Joined() {
								_ = o.Inject(ToClient, line)
							}
						}
					}
					return []string{line}
				})}
			},
			Note: "other scenarios' malformed lines arrive on every client: they must not count for or against anyone",
		},
		{
			Name: "five-clients", Does: "allows five joined clients at once (J_ER 503 to the sixth)", Legal: true,
			Server: chatserver.Config{MaxClients: 5}, Concurrency: 1,
			Note: "graded one scenario at a time, as the README advises for such a server",
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
