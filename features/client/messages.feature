@client-messages
Feature: Messages (client)
  "An active client can send user text message to the server that will just
  send a copy to all active clients in the client list."
  "DATA <<user_name>>: <<free text...>> ... First part of message indicates
  from which user it is, the colon(:) indicates where the user message
  begins. Max 250 user characters."

  The user types what the typing profile says to say something (by default
  the text alone). Everywhere but in client-messages.data-shape, the
  suite's server reads "alice: hi" or a DATA under another name as the
  client's message.

  @must @rule:client-messages.data-shape
  Rule: A typed text is sent as "DATA <name>: <text>", under the joined name, the text unchanged

    Scenario Outline: A typed text is sent whole: <what>
      Given the client has joined as alice
      When the user says "<text>"
      Then the client sends the text as DATA from alice

      Examples:
        | text                    | what                                     |
        | hello everyone          | a sentence                               |
        | meet at 12:30: room B   | colons in the text                       |
        | blåbærsyltetøy ✓        | characters outside ASCII                 |

    Scenario: The longest text is sent whole
      Given the client has joined as alice
      When the user says a text of 250 characters
      Then the client sends the text as DATA from alice

  @should @screen @rule:client-messages.text-checked
  Rule: A text over 250 characters is refused by the client itself, with a message, and not sent

    Scenario: A text of 251 characters is refused before sending
      Given the client has joined as alice
      When the user says a text of 251 characters
      Then the client says something
      When the user says "short enough"
      Then the first DATA the client sends after joining is "short enough"
