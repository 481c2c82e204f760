@framing
Feature: Stream framing
  "The solution will use TCP to communicate."
  TCP carries a stream of bytes, not messages: a server must find the
  messages in the stream however the client's writes arrive. (A server
  that takes each read() for one message breaks these rules; the suite
  still grades it on every other rule with -framing raw.)

  @must @rule:framing.two-in-one
  Rule: Two messages that arrive in one TCP segment are both handled

    Scenario: JOIN and DATA in one write
      Given bob and carol have joined
      And bob has received a DATA from carol
      And alice has connected
      When alice sends JOIN and DATA "two in one" in one TCP write
      Then alice receives J_OK
      And bob receives DATA "two in one" from alice

  @must @rule:framing.split
  Rule: A message that arrives in pieces is handled once it is complete

    Scenario: JOIN split across three writes
      Given alice has connected
      When alice sends JOIN split across three TCP writes
      Then alice receives J_OK

  @should @lines @rule:framing.crlf
  Rule: A line may end in CRLF as well as LF

    Scenario: JOIN ending in CRLF
      Given alice has connected
      When alice sends the line "JOIN {alice}, {addr}\r"
      Then alice receives J_OK
