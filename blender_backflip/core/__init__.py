"""The bpy-free core: skeleton, character, motion, retargeting, observation/action spec, controller, rollout."""
