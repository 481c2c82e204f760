@client-joining
Feature: Joining (client)
  "The client should at the start ask the user his/her chat-name(username)
  and then send a join message to the server."
  "JOIN <<user_name>>, <<server_ip>>:<<server_port>>"
  "If a new user tries to join with the same name as an already active user,
  then an error message should be sent back to client. Client can try again
  with a new name."
  "Username is max 12 chars long, only letters, digits, '-' and '_' allowed."

  The suite plays the server and the user. The user types what the typing
  profile says to join (by default the name alone); the suite waits for
  the client's JOIN on the wire before it types anything more. Aliases
  (alice, bob) stand for fresh names of at most 9 characters.

  Everywhere but in client-joining.join-shape, the suite's server takes a
  JOIN without the address, or the typed name alone, as the client's
  attempt to join, and answers it, so that the client can be graded on
  everything else.

  @must @rule:client-joining.join-shape
  Rule: The first message is "JOIN <name>, <host>:<port>": the typed name and the address the client connected to

    A host name that resolves to the address (localhost for 127.0.0.1) is
    as good as the address itself; the port must be the server's.

    Scenario: The client joins with the name typed
      Given the client has started
      When the user types the name alice
      Then the client's first message is JOIN with alice's name and the server's address

  @must @rule:client-joining.retry
  Rule: After J_ER the user can try another name, and the client sends a new JOIN

    Whether the client sends it on the same connection or on a new one is
    its own choice: servers of the assignment do both after J_ER.

    Scenario: A name that the server refuses is replaced by another
      Given the client has started
      And the user has typed the name alice and the client has sent a JOIN
      When the server answers J_ER
      And the user types the name bob
      Then the client sends a JOIN with bob's name

  @should @screen @rule:client-joining.name-checked
  Rule: A name the protocol does not allow is refused by the client itself, with a message, and not sent

    Scenario Outline: An invalid name is refused before sending: <what>
      Given the client has started
      When the user types the name "<name>"
      Then the client says something
      When the user types the name alice
      Then the first JOIN the client sends is alice's

      Examples:
        | name          | what                                     |
        | abcdefghijklm | 13 characters, one too many              |
        | bad.name      | '.'                                      |
        | bjørn         | 'ø', a letter but not one of A-Z and a-z |
        | two words     | a space                                  |
