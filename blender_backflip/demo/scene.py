"""The demo stage: a tiled ground, a sun, a side camera framed on the baked motion, Workbench render settings."""

from __future__ import annotations

import math

import bmesh
import bpy
import numpy as np
from mathutils import Vector

GROUND_COLOURS = ((0.42, 0.42, 0.42, 1.0), (0.30, 0.30, 0.30, 1.0))  # neutral greys: no hue, unlike the avatar
BACKGROUND = (0.62, 0.62, 0.62)
TILE = 0.5  # m


def reset_scene() -> bpy.types.Scene:
    """An empty scene (the factory startup file, nothing in it). Preferences stay as they are: resetting them
    too (read_factory_settings) would disable installed extensions, this add-on among them."""
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    return bpy.context.scene


def add_ground(scene: bpy.types.Scene, half_size: float = 8.0) -> bpy.types.Object:
    """A square of checker tiles (two materials) on z = 0: the tiles show the travel of the flip."""
    mats = []
    for i, colour in enumerate(GROUND_COLOURS):
        mat = bpy.data.materials.new(f"Ground {i}")
        mat.diffuse_color = colour
        bsdf = mat.node_tree.nodes.get("Principled BSDF") if mat.node_tree else None
        if bsdf is not None:  # EEVEE and Cycles see the same colour as Workbench
            bsdf.inputs["Base Color"].default_value = colour
        mats.append(mat)
    n = int(round(2 * half_size / TILE))
    bm = bmesh.new()
    bmesh.ops.create_grid(bm, x_segments=n, y_segments=n, size=half_size)
    bm.faces.ensure_lookup_table()
    for f in bm.faces:
        c = f.calc_center_median()
        f.material_index = (int(math.floor(c.x / TILE)) + int(math.floor(c.y / TILE))) % 2
    mesh = bpy.data.meshes.new("Ground")
    bm.to_mesh(mesh)
    bm.free()
    for mat in mats:
        mesh.materials.append(mat)
    ground = bpy.data.objects.new("Ground", mesh)
    scene.collection.objects.link(ground)
    return ground


def add_light(scene: bpy.types.Scene) -> bpy.types.Object:
    light = bpy.data.lights.new("Sun", "SUN")
    light.energy = 3.0
    obj = bpy.data.objects.new("Sun", light)
    obj.rotation_euler = (math.radians(50), math.radians(10), math.radians(30))
    scene.collection.objects.link(obj)
    return obj


def add_camera(scene: bpy.types.Scene) -> bpy.types.Object:
    cam = bpy.data.cameras.new("Camera")
    cam.lens = 50.0
    cam.sensor_fit = "HORIZONTAL"
    obj = bpy.data.objects.new("Camera", cam)
    scene.collection.objects.link(obj)
    scene.camera = obj
    return obj


def setup_render(scene: bpy.types.Scene, width: int = 640, height: int = 360) -> None:
    """Workbench: flat studio light, material colours, shadows and cavity. Clear, and fast on CPU (Mesa)."""
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = False
    world = scene.world or bpy.data.worlds.new("World")
    scene.world = world
    world.color = BACKGROUND  # Workbench's render background
    shading = scene.display.shading
    scene.display.render_aa = "FXAA"  # 8x AA costs 3x the time on a CPU (Mesa); FXAA is clear enough
    shading.light = "STUDIO"
    shading.color_type = "MATERIAL"
    shading.show_shadows = True
    shading.shadow_intensity = 0.35
    shading.show_cavity = True
    shading.cavity_type = "WORLD"
    shading.background_type = "VIEWPORT"
    shading.background_color = BACKGROUND
    scene.display.light_direction = (0.35, 0.35, 0.87)
    scene.display.shadow_focus = 0.3
    scene.display_settings.display_device = "sRGB"
    scene.view_settings.view_transform = "Standard"
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"


def frame_camera(camera: bpy.types.Object, points: np.ndarray, facing: Vector, aspect: float,
                 margin: float = 1.15) -> None:
    """Place a side camera (looking across the avatar's facing) so that all `points` (N, 3) are in view.

    The camera sits on the avatar's right-hand side, looking at the middle of the points, at the distance
    where the points' extent (with a margin) fills the frame in both directions.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = Vector(((lo + hi) / 2).tolist())
    fwd = Vector((facing.x, facing.y, 0.0)).normalized()
    side = Vector((0, 0, 1)).cross(fwd).normalized()  # the avatar's left... its right is -side
    view_dir = side  # the camera looks along the avatar's left: it stands on the avatar's right-hand side
    # Extent of the points across the view (horizontal) and up (vertical).
    rel = pts - np.array(centre)
    horiz = np.abs(rel @ np.array(fwd)).max() * 2
    vert = np.abs(rel[:, 2]).max() * 2
    depth = np.abs(rel @ np.array(side)).max()
    cam = camera.data
    fov_h = 2 * math.atan(cam.sensor_width / (2 * cam.lens))
    fov_v = 2 * math.atan(math.tan(fov_h / 2) / aspect)
    dist = max(horiz * margin / 2 / math.tan(fov_h / 2), vert * margin / 2 / math.tan(fov_v / 2)) + depth
    elevation = math.radians(6.0)
    offset = -view_dir * math.cos(elevation) * dist + Vector((0, 0, math.sin(elevation) * dist))
    camera.location = centre + offset
    direction = centre - camera.location
    camera.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()


def frame_flip_region(camera: bpy.types.Object, armature: bpy.types.Object, aspect: float,
                      height: float) -> None:
    """Frame, before any bake, where a flip of this avatar happens: from 0.4 m in front of it to 2.2 m behind
    (a flip travels about 1.1 m back; a fall lies down behind it), from the ground to 1.25x its height."""
    fwd = rest_facing(armature)
    base = np.array(armature.matrix_world.translation)
    corners = [base + np.array(fwd) * d + np.array([0.0, 0.0, z]) for d in (0.4, -2.2) for z in (0.0, 1.25 * height)]
    frame_camera(camera, np.array(corners), fwd, aspect, margin=1.05)


def world_points_over_frames(objects: list[bpy.types.Object], scene: bpy.types.Scene, frames: list[int],
                             max_points: int = 400) -> np.ndarray:
    """World positions of (a sample of) the evaluated vertices of `objects` at each frame: what is on screen."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    out = []
    current = scene.frame_current
    try:
        for frame in frames:
            scene.frame_set(frame)
            for obj in objects:
                ev = obj.evaluated_get(depsgraph)
                mesh = ev.to_mesh()
                co = np.empty(len(mesh.vertices) * 3)
                mesh.vertices.foreach_get("co", co)
                ev.to_mesh_clear()
                co = co.reshape(-1, 3)
                step = max(1, len(co) // max_points)
                mw = np.array(obj.matrix_world)
                out.append(co[::step] @ mw[:3, :3].T + mw[:3, 3])
    finally:
        scene.frame_set(current)
    return np.concatenate(out) if out else np.zeros((0, 3))


def rest_facing(armature: bpy.types.Object) -> Vector:
    """The avatar's facing in the world: -Y of the armature object (Blender's front), on the ground plane."""
    fwd = armature.matrix_world.to_3x3() @ Vector((0, -1, 0))
    fwd.z = 0.0
    return fwd.normalized() if fwd.length > 1e-6 else Vector((0, -1, 0))

