@fragile @robustness
Feature: Robustness
  "When a client joins, the server should maintain and update a list of all
  active clients."
  "Requests not following the protocol should give an error response back to
  the client and of course log the event." (the assignment's September 2019
  edition)

  A server on a campus network meets typos, half-written clients, port
  scanners and the odd classmate who wants to see what breaks: it must keep
  serving everyone else. These scenarios may crash a fragile server, so the
  suite runs them last, one at a time, and each ends by checking that the
  server still accepts a new client. If the server dies, the report says
  in which scenario, and grades nothing after it.

  @should @rule:robustness.huge-line
  Rule: An oversized line gets J_ER or a closed connection, and the others notice nothing

    Scenario: A line of 1 MiB
      Given alice and bob have joined
      And bob has received a DATA from alice
      And mallory has connected
      When mallory sends a line of 1 MiB
      Then mallory receives J_ER or her connection is closed
      When alice sends DATA "still here"
      Then bob receives DATA "still here" from alice
      And the server still accepts a new client

  @should @rule:robustness.junk
  Rule: Binary junk disturbs nobody else

    Whether the sender gets a J_ER is errors.unknown's business; this rule
    asks that the server survives it and serves the others.

    Scenario: NUL bytes, invalid UTF-8 and a terminal escape sequence
      Given alice and bob have joined
      And bob has received a DATA from alice
      And mallory has connected
      When mallory sends the line "\x00\x01\xff\xfe junk \x1b[2J\x80"
      And alice sends DATA "still here"
      Then bob receives DATA "still here" from alice
      And the server still accepts a new client

  @should @rule:robustness.silent-connection
  Rule: A connection that sends nothing disturbs nobody

    Scenario: A connection opened and closed without a byte
      Given alice and bob have joined
      And bob has received a DATA from alice
      When mallory opens a connection and closes it without sending anything
      And alice sends DATA "still here"
      Then bob receives DATA "still here" from alice
      And the server still accepts a new client

    Scenario: A connection that stays open and silent does not hold up the others
      Given alice has joined
      And mallory has connected
      When bob joins
      Then bob receives J_OK
      And the server still accepts a new client

  @should @heavy @rule:robustness.slow-reader
  Rule: A client that stops reading does not stall the others

    The operating system buffers a few megabytes for a reader that does not
    read, so it takes some 5 MB (20000 messages) for a server that writes to
    each client in turn to block on it. The flood stops after -flood (60s
    by default) and the report says how far it got.

    Scenario: One client stops reading while the others chat
      Given alice, bob and mallory have joined
      And bob has received a DATA from alice
      When mallory stops reading
      And alice sends 20000 numbered messages of 250 characters
      Then bob receives all of alice's numbered messages
      And the server still accepts a new client

  @should @rule:robustness.reset
  Rule: A client whose connection vanishes is removed, and the others notice nothing

    Scenario: A connection reset without QUIT or FIN
      Given alice and bob have joined
      And alice has received a LIST with alice and bob
      When bob's connection is reset
      Then alice receives a new LIST that removes bob
      And the server still accepts a new client

  @must @rule:robustness.join-race
  Rule: Of clients that join with one name at the same time, exactly one is accepted

    Scenario: Ten clients join with the same name at once
      When 10 clients join with the same name at the same time
      Then exactly one of them receives J_OK
      And the server still accepts a new client
