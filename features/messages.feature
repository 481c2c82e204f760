@messages
Feature: Messages
  "An active client can send user text message to the server that will just
  send a copy to all active clients in the client list."
  "DATA <<user_name>>: <<free text...>> ... First part of message indicates
  from which user it is, the colon(:) indicates where the user message
  begins. Max 250 user characters."

  Rule: A DATA message is sent to every active client

    @must
    Scenario: The other clients receive the message
      Given alice, bob and carol have joined
      When alice sends DATA "hello everyone"
      Then bob receives DATA "hello everyone" from alice
      And carol receives DATA "hello everyone" from alice

    @must
    Scenario: The sender receives its own copy
      Given alice and bob have joined
      When alice sends DATA "do I hear myself?"
      Then alice receives DATA "do I hear myself?" from alice

  Rule: The text is everything after the first colon, and may itself hold colons

    @must
    Scenario: A text with colons arrives whole
      Given alice and bob have joined
      When alice sends DATA "meet at 12:30: room B"
      Then bob receives DATA "meet at 12:30: room B" from alice

  Rule: A text of up to 250 characters is delivered, counted as characters and not bytes

    @must
    Scenario Outline: A text of <count> "<char>" arrives whole: <what>
      Given alice and bob have joined
      When alice sends a text of <count> "<char>" characters
      Then bob receives alice's text

      Examples:
        | count | char | what                         |
        | 1     | a    | the shortest text            |
        | 250   | a    | the longest text             |
        | 250   | ø    | 250 characters but 500 bytes |

  Rule: A text longer than 250 characters is refused with J_ER and reaches nobody

    @must
    Scenario Outline: A text of <count> "<char>" is refused: <what>
      Given alice and bob have joined
      When alice sends a text of <count> "<char>" characters
      Then alice receives J_ER
      And bob receives no DATA from alice

      Examples:
        | count | char | what                     |
        | 251   | a    | one character too many   |
        | 251   | ø    | 251 two-byte characters  |

  Rule: Only an active client can send DATA

    @must
    Scenario: DATA from a client that has not joined reaches nobody
      Given bob has joined
      And alice has connected
      When alice sends DATA "let me in"
      Then bob receives no DATA from alice

    @should
    Scenario: DATA from a client that has not joined is answered with J_ER
      Given alice has connected
      When alice sends DATA "let me in"
      Then alice receives J_ER

  Rule: A client cannot send DATA under another user's name

    @should
    Scenario: DATA under another active user's name is refused and reaches nobody
      Given alice, bob and carol have joined
      When alice sends DATA "I am bob" under bob's name
      Then alice receives J_ER
      And carol receives no DATA "I am bob"

  Rule: A text cannot hold control characters that would repaint another user's terminal

    @should
    Scenario: A text with an ANSI escape sequence is refused and reaches nobody
      Given alice and bob have joined
      When alice sends the line "DATA {alice}: \x1b[2Jgotcha"
      Then alice receives J_ER
      And bob receives no DATA from alice
