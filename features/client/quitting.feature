@client-quitting
Feature: Quitting (client)
  "The Client must send a Quit message when it is closing."
  "QUIT: From client to server. Client is closing down and leaving the
  group." (the assignment's "OUIT" is a typo)

  The user leaves the way the typing profile says: by ending standard input
  (the default), or by typing a word such as QUIT, quit or *q.

  @must @rule:client-quitting.quit
  Rule: When the user leaves, the client sends QUIT and closes its connection

    After QUIT the suite's server leaves the connection open: closing it is
    the client's business (a half-close is enough).

    Scenario: The user leaves
      Given the client has joined as alice
      When the user leaves
      Then the client sends QUIT
      And the client closes its connection

  @should @quit-word @rule:client-quitting.at-eof
  Rule: The end of standard input is leaving too: the client sends QUIT

    Only graded when the profile leaves by a typed word: otherwise
    client-quitting.quit has tested the end of input already.

    Scenario: Standard input ends
      Given the client has joined as alice
      When standard input ends
      Then the client sends QUIT
