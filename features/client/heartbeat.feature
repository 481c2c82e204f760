@client-heartbeat
Feature: Heartbeat (client)
  "The Client must send a "heartbeat alive" message once every minute to the
  Server."
  "IMAV: From client to server. Client sends this heartbeat alive every 1
  minute."

  The interval is -client-heartbeat (60s, as the assignment says, unless
  told otherwise). The clock may start when the client connects, when it
  sends JOIN or when it receives J_OK: the suite counts from J_OK and
  allows a quarter of the interval, and -client-wait, on top. These rules
  take about two intervals of real time each; the suite runs them first,
  side by side when it can.

  @must @slow @rule:client-heartbeat.at-least
  Rule: A joined client sends IMAV at least once per interval

    Scenario: IMAV keeps coming while the user says nothing
      Given the client has joined as alice
      When the user stays idle for two heartbeat intervals
      Then the client sent IMAV within every interval

  @should @slow @rule:client-heartbeat.not-too-often
  Rule: A client does not send IMAV much more often than the interval asks: one per interval, and one more

    Counted from J_OK to one interval after the first IMAV, so that an IMAV
    that a busy network delivers late, next to the one after it, does not
    count as too often; a client that sends IMAV every half interval or
    faster fails.

    Scenario: IMAV does not flood the server
      Given the client has joined as alice
      And the client has sent its first IMAV
      When the user stays idle for one heartbeat interval
      Then the client sent at most one IMAV per interval, and one more
