@client-robustness
Feature: Robustness (client)
  "You should code a Chat system, with a chat client that can connect to a
  chat server."
  "J_ER <<err_code>>: <<err_msg>> ... unknown command, bad command or any
  other errors."

  A client meets servers written by other students: unknown messages, junk,
  lines longer than any message, and servers that go away. It should keep
  working where it can, and say what happened where it cannot, in words
  rather than a stack trace (a Java exception with its "at ..." lines, a Go
  panic, a Python traceback).

  @should @rule:client-robustness.unknown-message
  Rule: An unknown message does not stop the client

    Scenario: A message the protocol does not have
      Given the client has joined as alice
      And the user has said "before" and the client has sent it
      When the server sends the line "HELLO alice, nice to see you"
      And the user says "after"
      Then the client still works: it sends "after"
      And the client printed no stack trace

  @should @rule:client-robustness.junk
  Rule: Junk from the server does not stop the client

    Scenario: Bytes that are no message at all
      Given the client has joined as alice
      And the user has said "before" and the client has sent it
      When the server sends junk
      And the user says "after"
      Then the client still works: it sends "after"
      And the client printed no stack trace

  @should @rule:client-robustness.long-line
  Rule: A line longer than any message does not stop the client

    Scenario: A line of 60,000 characters
      Given the client has joined as alice
      And the user has said "before" and the client has sent it
      When the server sends a line of 60000 characters
      And the user says "after"
      Then the client still works: it sends "after"
      And the client printed no stack trace

  @should @screen @rule:client-robustness.server-closes
  Rule: When the server closes the connection, the client says so, without a stack trace

    Scenario: The server goes away
      Given the client has joined as alice
      When the server closes the connection
      Then the client says something
      And the client printed no stack trace
