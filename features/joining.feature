@joining
Feature: Joining
  "The client should at the start ask the user his/her chat-name(username)
  and then send a join message to the server."
  "JOIN <<user_name>>, <<server_ip>>:<<server_port>>"
  "Username is max 12 chars long, only letters, digits, '-' and '_' allowed."
  "J_OK: From server to client. Client is accepted."
  "J_ER <<err_code>>: <<err_msg>>: From server to client. Client not accepted."

  @must @rule:joining.valid-name
  Rule: A client that joins with a valid, free name is accepted with J_OK

    Scenario: A valid name is accepted
      Given alice has connected
      When alice sends JOIN with her name
      Then alice receives J_OK

    Scenario Outline: Names of 1 to 12 letters, digits, '-' and '_' are accepted: <what>
      Given alice has connected
      When alice sends JOIN with the name "<name>"
      Then alice receives J_OK

      Examples:
        | name         | what                                |
        | #            | one character, the shortest allowed |
        | abcdef###### | 12 characters, the longest allowed  |
        | ABCDEF###### | upper-case letters                  |
        | ######       | digits only                         |
        | ab-cd-####   | '-' inside a name                   |
        | ab_cd_####   | '_' inside a name                   |
        | -_####       | a name that starts with '-'         |

  @must @rule:joining.invalid-name
  Rule: A name that breaks the name rules is refused with J_ER

    A refusal counts only from a server that accepts a valid name at the
    same time: a server that is full, or refuses everyone, is not graded
    on this rule.

    Scenario Outline: Invalid names are refused: <what>
      Given alice has connected
      When alice sends JOIN with the name "<name>"
      Then alice receives J_ER
      And the server still accepts a valid name

      Examples:
        | name          | what                                     |
        | abcdefg###### | 13 characters, one too many              |
        | ab cd###      | a space                                  |
        | ab!cd###      | '!'                                      |
        | bjørn###      | 'ø', a letter but not one of A-Z and a-z |
        | ab.cd###      | '.'                                      |

      @fragile
      Examples: input that crashes fragile servers, sent last
        | name | what          |
        |      | an empty name |

  @should @rule:joining.rejoin
  Rule: A connection that has joined cannot join again

    Scenario: A second JOIN on the same connection is refused
      Given alice has joined
      When alice sends JOIN with bob's name
      Then alice receives J_ER

  @should @rule:joining.ok-shape
  Rule: J_OK is a message of its own: "J_OK" and nothing else

    Everywhere else the suite reads "J_OK welcome" or a J_OK glued to the
    next message as J_OK; this rule is about the shape alone.

    Scenario: J_OK stands alone
      Given alice has connected
      When alice sends JOIN with her name
      Then alice receives J_OK exactly as "J_OK"

  @should @rule:joining.no-greeting
  Rule: The answer to JOIN comes first: no welcome line before J_OK

    The assignment's first message from the server is J_OK or J_ER: a
    welcome line before it breaks a client that reads the first line as
    the answer to its JOIN. (Whether a LIST may come before J_OK is
    presence.ok-first's business.)

    Scenario: J_OK is the first thing a client receives
      Given alice has connected
      When alice sends JOIN with her name
      Then the first thing alice receives is J_OK

  @should @rule:joining.unjoined-receive-nothing
  Rule: A connection that has not joined receives no DATA and no LIST

    Scenario: Chat and presence do not reach a connection that never joined
      Given alice and bob have joined
      And bob has received a DATA from alice
      And mallory has connected
      When carol joins
      And alice sends DATA "members only"
      Then bob receives DATA "members only" from alice
      And mallory receives no DATA and no LIST
