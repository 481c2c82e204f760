@joining
Feature: Joining
  "The client should at the start ask the user his/her chat-name(username)
  and then send a join message to the server."
  "JOIN <<user_name>>, <<server_ip>>:<<server_port>>"
  "Username is max 12 chars long, only letters, digits, '-' and '_' allowed."
  "J_OK: From server to client. Client is accepted."
  "J_ER <<err_code>>: <<err_msg>>: From server to client. Client not accepted."

  Rule: A client that joins with a valid, free name is accepted with J_OK

    @must
    Scenario: A valid name is accepted
      Given alice has connected
      When alice sends JOIN with her name
      Then alice receives J_OK

    @must
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

  Rule: A name that breaks the name rules is refused with J_ER

    @must
    Scenario Outline: Invalid names are refused: <what>
      Given alice has connected
      When alice sends JOIN with the name "<name>"
      Then alice receives J_ER

      Examples:
        | name          | what                                     |
        | abcdefg###### | 13 characters, one too many              |
        | ab cd###      | a space                                  |
        | ab!cd###      | '!'                                      |
        | bjørn###      | 'ø', a letter but not one of A-Z and a-z |
        | ab.cd###      | '.'                                      |
        |               | an empty name                            |

  Rule: A connection that has joined cannot join again

    @should
    Scenario: A second JOIN on the same connection is refused
      Given alice has joined
      When alice sends JOIN with bob's name
      Then alice receives J_ER
