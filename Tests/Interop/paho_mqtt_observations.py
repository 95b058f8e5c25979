"""Subscribes to the sensor service's SensorThings topics with paho-mqtt, as a dashboard would.

Usage: python paho_mqtt_observations.py HOST PORT DATASTREAM_ID COUNT READY_FILE
Subscribes to v1.1/Datastreams(ID)/Observations and v1.1/Observations, writes READY_FILE once the
broker granted both subscriptions, and waits (at most 60 s) for COUNT observations on each topic.
Checks that every message is an Observation as GET answers it: @iot.id, @iot.selfLink, result,
phenomenonTime. Prints each observation's id and result, then "ok", and exits 0.
"""
import json
import sys
import time

import paho.mqtt.client as mqtt

host, port, datastream, count, ready_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
navigation = f"v1.1/Datastreams({datastream})/Observations"
topics = [navigation, "v1.1/Observations"]
received = {topic: [] for topic in topics}
granted = []


def on_connect(client, userdata, flags, reason_code, properties):
    client.subscribe([(topic, 1) for topic in topics])


def on_subscribe(client, userdata, mid, reason_codes, properties):
    granted.extend(code for code in reason_codes if not code.is_failure)
    if len(granted) == len(topics):
        with open(ready_file, "w") as ready:
            ready.write("subscribed\n")


def on_message(client, userdata, message):
    received[message.topic].append(json.loads(message.payload))


client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="paho-interop", protocol=mqtt.MQTTv311)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.connect(host, port, keepalive=30)
client.loop_start()
deadline = time.time() + 60
while time.time() < deadline and any(len(values) < count for values in received.values()):
    time.sleep(0.05)
client.loop_stop()
client.disconnect()

for topic in topics:
    observations = received[topic]
    if len(observations) != count:
        print(f"FAILED: {len(observations)} message(s) on {topic}, expected {count}")
        sys.exit(1)
    for observation in observations:
        for member in ("@iot.id", "@iot.selfLink", "result", "phenomenonTime"):
            if member not in observation:
                print(f"FAILED: a message on {topic} has no {member}: {observation}")
                sys.exit(1)
        if not observation["@iot.selfLink"].endswith(f"/Observations({observation['@iot.id']})"):
            print(f"FAILED: self link {observation['@iot.selfLink']} does not name the observation")
            sys.exit(1)
for observation in received[navigation]:
    print(observation["@iot.id"], observation["result"])
print("ok")
