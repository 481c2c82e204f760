@messages
Feature: Messages
  "An active client can send user text message to the server that will just
  send a copy to all active clients in the client list."
  "DATA <<user_name>>: <<free text...>> ... First part of message indicates
  from which user it is, the colon(:) indicates where the user message
  begins. Max 250 user characters."

  The suite reads a DATA relayed as "alice: hi" or "[alice]: hi" as a DATA
  for every rule but the one about its shape.

  @must @rule:messages.to-others
  Rule: A DATA message is sent to every other active client

    Scenario: The other clients receive the message
      Given alice, bob and carol have joined
      When alice sends DATA "hello everyone"
      Then bob receives DATA "hello everyone" from alice
      And carol receives DATA "hello everyone" from alice

  @must @rule:messages.echo
  Rule: The sender receives its own copy too

    Scenario: The sender receives its own copy
      Given alice and bob have joined
      When alice sends DATA "do I hear myself?"
      Then alice receives DATA "do I hear myself?" from alice

  @must @rule:messages.data-shape
  Rule: The server relays a DATA as "DATA <name>: <text>"

    Scenario: The relayed message has the assignment's shape
      Given alice and bob have joined
      And bob has received a DATA from alice
      When alice sends DATA "shape of things"
      Then bob receives DATA "shape of things" from alice exactly as "DATA {alice}: shape of things"

  @must @rule:messages.colons
  Rule: The text is everything after the first colon, and may itself hold colons

    Scenario: A text with colons arrives whole
      Given alice and bob have joined
      And bob has received a DATA from alice
      When alice sends DATA "meet at 12:30: room B"
      Then bob receives DATA "meet at 12:30: room B" from alice

  @must @rule:messages.length-ok
  Rule: A text of up to 250 characters is delivered, counted as characters and not bytes

    Scenario Outline: A text of <count> "<char>" arrives whole: <what>
      Given alice and bob have joined
      And bob has received a DATA from alice
      When alice sends a text of <count> "<char>" characters
      Then bob receives alice's text

      Examples:
        | count | char | what                         |
        | 1     | a    | the shortest text            |
        | 250   | a    | the longest text             |
        | 250   | ø    | 250 characters but 500 bytes |

  @must @rule:messages.too-long
  Rule: A text longer than 250 characters is refused with J_ER and reaches nobody

    A refusal counts only from a server that relays an ordinary text.

    Scenario Outline: A text of <count> "<char>" is refused: <what>
      Given alice and bob have joined
      And bob has received a DATA from alice
      When alice sends a text of <count> "<char>" characters
      Then alice receives J_ER
      And bob receives no DATA from alice

      Examples:
        | count | char | what                     |
        | 251   | a    | one character too many   |
        | 251   | ø    | 251 two-byte characters  |

  @must @rule:messages.unjoined-nobody @fragile
  Rule: DATA from a client that has not joined reaches nobody

    Scenario: DATA from a client that has not joined reaches nobody
      Given bob and carol have joined
      And bob has received a DATA from carol
      And mallory has connected
      When mallory sends DATA "let me in"
      Then bob receives no DATA from mallory

  @should @rule:messages.unjoined-refused @fragile
  Rule: DATA from a client that has not joined is answered with J_ER

    A refusal counts only from a server that relays an ordinary text.

    Scenario: DATA from a client that has not joined is answered with J_ER
      Given bob and carol have joined
      And bob has received a DATA from carol
      And alice has connected
      When alice sends DATA "let me in"
      Then alice receives J_ER

  @should @rule:messages.impersonation
  Rule: A client cannot send DATA under another user's name

    Scenario: DATA under another active user's name is refused and reaches nobody
      Given alice, bob and carol have joined
      And carol has received a DATA from alice
      When alice sends DATA "I am bob" under bob's name
      Then alice receives J_ER
      And carol receives no DATA "I am bob"

  @should @rule:messages.control-chars
  Rule: A text cannot hold control characters that would repaint another user's terminal

    Scenario: A text with an ANSI escape sequence is refused and reaches nobody
      Given alice and bob have joined
      And bob has received a DATA from alice
      When alice sends the line "DATA {alice}: \x1b[2Jgotcha"
      Then alice receives J_ER
      And bob receives no DATA from alice
