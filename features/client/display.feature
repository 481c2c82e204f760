@client-display
Feature: What the client shows
  "An active client can send user text message to the server that will just
  send a copy to all active clients in the client list."
  "LIST <<name1 name2 name3 ...>> From server to client. A list of all active
  user names is sent to all clients, each time the list at the server
  changes."
  "J_ER <<err_code>>: <<err_msg>> From server to client. Client not
  accepted."

  The suite reads the client's standard output and standard error: what it
  looks for must appear there, in any layout, colours and decorations
  included. A GUI client (manual mode) is not graded on these rules: the
  suite cannot see its window.

  @should @screen @rule:client-display.data-shown
  Rule: A DATA from the server is shown: the sender's name and the text appear on the output

    Scenario: Another user's message is shown
      Given the client has joined as alice
      When the server sends DATA "anyone seen my keys?" from bob
      Then the client shows bob's name and "anyone seen my keys?"

  @should @screen @rule:client-display.list-shown
  Rule: A LIST from the server is shown: the names of the users online appear on the output

    Scenario: Who is online is shown
      Given the client has joined as alice
      When the server sends a LIST of alice, bob and carol
      Then the client shows bob's name and carol's name

  @should @screen @rule:client-display.refusal-shown
  Rule: When the server refuses a name, the client shows the server's reason

    Scenario: The reason for a refusal is shown
      Given the client has started
      And the user has typed the name alice and the client has sent a JOIN
      When the server answers J_ER "this name is taken, sorry"
      Then the client shows "this name is taken, sorry"

  @should @screen @rule:client-display.control-chars
  Rule: Control characters from the server are not printed raw, so that nobody can repaint the user's terminal

    Scenario: Escape sequences in a message reach the terminal harmless
      Given the client has joined as alice
      And the client has shown a DATA from bob
      When the server sends DATA with control characters from mallory
      And the client has shown a DATA from bob again
      Then the client printed none of the control characters mallory sent
