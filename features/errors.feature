@errors
Feature: Errors
  "J_ER <<err_code>>: <<err_msg>>: From server to client. Client not
  accepted. Duplicate username, unknown command, bad command or any other
  errors."

  The code and the text of a J_ER are the server's choice; the suite checks
  the shape "J_ER <code>: <text>".

  Rule: An unknown command is answered with J_ER

    @must
    Scenario Outline: An unknown command is refused: <line>
      Given alice has joined
      When alice sends the line "<line>"
      Then alice receives J_ER

      Examples:
        | line               |
        | HELLO              |
        | PING               |
        | SEND {alice}: hi   |

  Rule: A known command with the wrong shape is answered with J_ER

    @must
    Scenario Outline: A malformed command is refused: <what>
      Given alice has <state>
      When alice sends the line "<line>"
      Then alice receives J_ER

      Examples:
        | state     | line                  | what                   |
        | connected | JOIN                  | JOIN without a name    |
        | joined    | DATA                  | DATA without anything  |
        | joined    | DATA {alice} no colon | DATA without the colon |

  Rule: J_ER has the shape "J_ER <code>: <text>"

    @must
    Scenario: An error reply carries a code and a text
      Given alice has connected
      When alice sends the line "HELLO"
      Then alice receives J_ER with a code and a text

  Rule: A J_ER does not end the session: the client can go on or try again

    @should
    Scenario: After an invalid name, the client can join on the same connection
      Given alice has connected
      When alice sends JOIN with the name "ab!cd"
      Then alice receives J_ER
      And alice's connection stays open
      When alice joins
      Then alice receives J_OK

    @should
    Scenario: After a duplicate name, the client can join with a new name on the same connection
      Given alice has joined
      And bob has connected
      When bob sends JOIN with alice's name
      Then bob receives J_ER
      And bob's connection stays open
      When bob joins
      Then bob receives J_OK

    @should
    Scenario: After an unknown command, the client can still chat
      Given alice and bob have joined
      When alice sends the line "HELLO"
      Then alice receives J_ER
      And alice's connection stays open
      When alice sends DATA "back again"
      Then bob receives DATA "back again" from alice
