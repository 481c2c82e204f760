@errors
Feature: Errors
  "J_ER <<err_code>>: <<err_msg>>: From server to client. Client not
  accepted. Duplicate username, unknown command, bad command or any other
  errors."

  The code and the text of a J_ER are the server's choice; only the shape
  "J_ER <code>: <text>" is checked, by one rule. Everywhere else the suite
  reads "J_ER bad name" or "J_ER 409 taken" as the J_ER it is.

  @must @rule:errors.unknown
  Rule: An unknown command is answered with J_ER

    Scenario Outline: An unknown command is refused: <line>
      Given alice has joined
      When alice sends the line "<line>"
      Then alice receives J_ER

      Examples:
        | line               |
        | HELLO              |
        | PING               |
        | SEND {alice}: hi   |

  @must @rule:errors.malformed
  Rule: A known command with the wrong shape is answered with J_ER

    Scenario Outline: A malformed command is refused: <what>
      Given alice has <state>
      When alice sends the line "<line>"
      Then alice receives J_ER

      Examples:
        | state     | line                  | what                   |
        | joined    | DATA                  | DATA without anything  |
        | joined    | DATA {alice} no colon | DATA without the colon |

      @fragile
      Examples: input that crashes fragile servers, sent last
        | state     | line                  | what                   |
        | connected | JOIN                  | JOIN without a name    |

  @must @rule:errors.jer-shape
  Rule: J_ER has the shape "J_ER <code>: <text>"

    Scenario Outline: The J_ER for <what> carries a code and a text
      Given alice has joined
      And bob has connected
      When <who> <does>
      Then <who> receives J_ER with a code and a text

      Examples:
        | what               | who   | does                                  |
        | an unknown command | alice | sends the line "HELLO"                |
        | an invalid name    | bob   | sends JOIN with the name "ab!cd###"   |
        | a name in use      | bob   | sends JOIN with alice's name          |
        | a text too long    | alice | sends a text of 251 "a" characters    |

  @should @rule:errors.keeps-session
  Rule: A J_ER does not end the session: the client can go on or try again

    Scenario: After an invalid name, the client can join on the same connection
      Given alice has connected
      And alice has been refused the name "ab!cd###"
      Then alice's connection stays open
      When alice joins
      Then alice receives J_OK

    Scenario: After a duplicate name, the client can join with a new name on the same connection
      Given alice has joined
      And bob has been refused alice's name
      Then bob's connection stays open
      When bob joins
      Then bob receives J_OK

    Scenario: After an unknown command, the client can still chat
      Given alice and bob have joined
      And bob has received a DATA from alice
      And alice has been answered J_ER to the line "HELLO"
      Then alice's connection stays open
      When alice sends DATA "back again"
      Then bob receives DATA "back again" from alice
