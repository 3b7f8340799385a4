"""Simulation and control rates: the single definition the trainer, the evaluator and the add-on share."""

PHYSICS_HZ: int = 480  # twice the control-friendly 240 Hz: a floor stiff enough that landing feet sink < 2 cm
CONTROL_HZ: int = 30
PHYSICS_DT: float = 1.0 / PHYSICS_HZ
CONTROL_DT: float = 1.0 / CONTROL_HZ
SUBSTEPS: int = PHYSICS_HZ // CONTROL_HZ
RECORD_HZ: int = 120  # the simulated motion is recorded (baked, judged) at this rate; feet depth is checked at it

# After the clip ends the reference holds its final pose this long: the policy must land and then stand.
HOLD_SECONDS: float = 2.0

assert PHYSICS_HZ % CONTROL_HZ == 0 and PHYSICS_HZ % RECORD_HZ == 0 and RECORD_HZ % CONTROL_HZ == 0
